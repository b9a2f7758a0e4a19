//! Groups with member files: the group and the job that reads its file are written
//! together, and the group is pending until the job has run.

use patron_service::{GroupDraft, Requester, ServiceError};
use patron_store::GroupStatus;

use crate::{each_world, World};

const FILE: &str = "https://files.example/members.csv";

fn requester(world: &World) -> Requester<'_> {
    Requester {
        application: &world.application,
        client_id: "client",
    }
}

#[tokio::test]
async fn a_bulk_group_is_pending_until_the_job_reading_its_file_has_run() {
    each_world(|world| async move {
        world.customer("asha@example.com", "Sup3r-secret").await;
        world.customer("ravi@example.com", "Sup3r-secret").await;
        world.files.put(
            FILE,
            b"email\nasha@example.com\nravi@example.com\nnot-an-email\n",
        );
        let draft = GroupDraft {
            name: Some("Listed".to_owned()),
            description: Some(String::new()),
            kind: Some("bulk"),
            file_url: Some(FILE.to_owned()),
            ..GroupDraft::default()
        };
        let group = world
            .services
            .groups
            .create(requester(&world), draft)
            .await
            .unwrap();
        assert_eq!(group.status, GroupStatus::Pending);
        while world.services.jobs.run_next("runner", None).await.unwrap() {}
        let done = world
            .services
            .groups
            .find(&world.application.id, &group.id)
            .await
            .unwrap();
        assert_eq!(done.status, GroupStatus::Completed);
        assert_eq!(done.error_count, Some(1), "the unreadable row is reported");
        let membership = world.services.groups.membership(&done).await.unwrap();
        let (members, total) = world
            .services
            .groups
            .members(
                &world.application.id,
                &membership,
                None,
                patron_domain::page::PageRequest::parse(None, None).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!((members.len(), total), (2, 2));
        world
    })
    .await;
}

#[tokio::test]
async fn a_file_that_cannot_be_had_leaves_no_group_behind() {
    each_world(|world| async move {
        let draft = GroupDraft {
            name: Some("Listed".to_owned()),
            kind: Some("bulk"),
            file_url: Some("https://files.example/missing.csv".to_owned()),
            ..GroupDraft::default()
        };
        let refused = world
            .services
            .groups
            .create(requester(&world), draft)
            .await
            .unwrap_err();
        match refused {
            ServiceError::Domain(error) => assert!(error.to_string().starts_with("file_url")),
            other => panic!("{other:?}"),
        }
        let (groups, total) = world
            .services
            .groups
            .list(
                &world.application.id,
                &patron_store::GroupFilter::default(),
                patron_domain::page::PageRequest::parse(None, None).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!((groups.len(), total), (0, 0));
        world
    })
    .await;
}
