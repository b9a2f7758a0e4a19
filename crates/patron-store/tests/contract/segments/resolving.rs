//! Resolving file rows (ids, emails, phones) to customers.

use super::*;

/// Also the regression test for phone lookups on PostgreSQL, which once decoded the INT4
/// `country_code` into an `i64` and failed.
#[tokio::test]
async fn customers_resolve_by_id_email_and_phone_in_order() {
    each_backend(|f| async move {
        let create = |new: NewCustomer| {
            let stores = f.stores.clone();
            async move {
                stores
                    .customers
                    .create_customer(&new, &actor())
                    .await
                    .unwrap();
                new
            }
        };
        let a = create(shopper(&f.application, Some("9876500001"))).await;
        let b = create(shopper(&f.application, None)).await;
        let c = create(shopper(&f.application, Some("9876500003"))).await;
        archive(&f, &c.id).await;
        let other = other_application(&f).await;
        let foreign = create(shopper(&other, Some("9876500004"))).await;
        let email_of = |new: &NewCustomer| Identifier::Email(new.emails[0].email.clone());
        let phone_of = |new: &NewCustomer| Identifier::Phone(new.phones[0].phone.clone());
        let id_of = |new: &NewCustomer| Identifier::UserId(new.id.clone());
        let (found_a, found_b) = (Some(a.id.clone()), Some(b.id.clone()));

        let cases = [
            (email_of(&b), &found_b),
            (id_of(&a), &found_a),
            (phone_of(&a), &found_a),
            (Identifier::UserId(unknown_id()), &None),
            (Identifier::Email(email("nobody@example.com")), &None),
            (Identifier::Phone(phone("9876509999")), &None),
            (phone_of(&c), &None),
            (email_of(&c), &None),
            (id_of(&c), &None),
            (
                Identifier::Email(email(&a.emails[0].email.as_str().to_uppercase())),
                &found_a,
            ),
            (phone_of(&foreign), &None),
            (email_of(&foreign), &None),
            (id_of(&foreign), &None),
            (Identifier::Phone(phone("+91 98765 00001")), &found_a),
            (email_of(&b), &found_b),
        ];
        let identifiers: Vec<Identifier> = cases
            .iter()
            .map(|(identifier, _)| identifier.clone())
            .collect();
        let expected: Vec<Option<ObjectId>> = cases.iter().map(|(_, id)| (*id).clone()).collect();
        let resolved = f
            .stores
            .groups
            .resolve_customers(&f.application, &identifiers)
            .await;
        let resolved = resolved.unwrap_or_else(|error| panic!("{:?}: {error:?}", f.backend));
        assert_eq!(resolved, expected);
        assert_eq!(
            f.stores
                .groups
                .resolve_customers(&f.application, &[])
                .await
                .unwrap(),
            vec![]
        );
    })
    .await;
}
