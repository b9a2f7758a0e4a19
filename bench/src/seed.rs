//! Seeding: many customers inserted through the store layer's batch import, each with a
//! unique email, phone number and username derived from its index.

use std::time::Instant;

use chrono::{DateTime, Utc};
use patron_domain::customer::{NewCustomer, Profile};
use patron_domain::email::Email;
use patron_domain::ids::ObjectId;
use patron_domain::phone::{Phone, Region};
use patron_service::{Clock, SystemClock};
use patron_store::Actor;

use crate::{say, BenchResult};

/// The email of customer `index`: `user{index}@bench.example`.
pub fn email_of(index: u64) -> String {
    format!("user{index}@bench.example")
}

/// The national phone number of customer `index`: `98` and the index on 8 digits, a valid
/// Indian mobile number for every index below 100,000,000.
pub fn phone_of(index: u64) -> String {
    format!("98{index:08}")
}

/// Builds the customer with index `index` of `application_id`.
pub fn customer(
    application_id: &ObjectId,
    index: u64,
    now: DateTime<Utc>,
) -> BenchResult<NewCustomer> {
    let email = Email::parse("email", &email_of(index))?;
    let phone = Phone::parse("phone", &phone_of(index), None, Region::INDIA)?;
    let profile = Profile {
        first_name: Some(format!("Bench{index}")),
        last_name: Some("Customer".to_owned()),
        ..Profile::default()
    };
    let suffix = u32::try_from(index % 100_000_000).unwrap_or_default();
    Ok(NewCustomer::new(
        application_id.clone(),
        Some(format!("bench_user_{index}")),
        profile,
        Some(email),
        Some(phone),
        suffix,
        now,
    )?)
}

/// Inserts customers `0..count` into the database at `url` in batches of `batch`, printing
/// progress and throughput.
pub async fn seed(url: &str, application_id: &str, count: u64, batch: usize) -> BenchResult<()> {
    let application_id = ObjectId::parse("application_id", application_id)?;
    let stores = patron_store::connect(url).await?;
    let actor = Actor::new("bench");
    let started = Instant::now();
    let report_every = (count / 10).max(1);
    let mut next_report = report_every;
    let mut index = 0u64;
    let mut customers = Vec::with_capacity(batch);
    while index < count {
        let now = SystemClock.now();
        let end = count.min(index + u64::try_from(batch)?);
        customers.clear();
        for i in index..end {
            customers.push(customer(&application_id, i, now)?);
        }
        stores
            .customers
            .import_customers(&customers, &actor)
            .await?;
        index = end;
        if index >= next_report || index == count {
            let seconds = started.elapsed().as_secs_f64();
            say(&format!(
                "  seeded {index:>9} / {count} customers, {:.1} s, {:.0} customers/s",
                seconds,
                index as f64 / seconds.max(1e-9)
            ));
            while next_report <= index {
                next_report += report_every;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_customers_are_valid_and_distinct() {
        let app = ObjectId::parse("id", "0123456789abcdef01234567").expect("valid id");
        let now = SystemClock.now();
        for index in [0, 7, 123_456, 99_999_999] {
            let customer = customer(&app, index, now).expect("valid customer");
            assert_eq!(customer.emails[0].email.as_str(), email_of(index));
            assert_eq!(customer.phones[0].phone.national(), phone_of(index));
            assert_eq!(customer.phones[0].phone.country_code(), 91);
            assert_eq!(customer.username, format!("bench_user_{index}"));
        }
    }
}
