//! The record form and the PTR that follows an address record.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::*;
use crate::dns::service::testing::*;
use crate::dns::service::{create_forward, detail};
use crate::dns::store;
use sea_orm::DatabaseConnection;

#[test]
fn forms_become_records_with_field_messages() {
    let origin = n("example.com.");
    let r = record_from_form(&a_form("www", "192.0.2.1"), &origin, Ttl(3600)).unwrap();
    assert_eq!(r.to_string(), "www.example.com. 3600 IN A 192.0.2.1");
    let e = record_from_form(&a_form("www", "192.0.2.300"), &origin, Ttl(3600)).unwrap_err();
    assert!(e
        .for_field("address")
        .unwrap()
        .contains("is not an IPv4 address"));
    let e = record_from_form(&a_form("www", "2001:db8::1"), &origin, Ttl(3600)).unwrap_err();
    assert!(e.for_field("address").unwrap().contains("IPv6"));
    let e =
        record_from_form(&a_form("www.example.org.", "192.0.2.1"), &origin, Ttl(1)).unwrap_err();
    assert!(e.for_field("owner").unwrap().contains("outside the zone"));
    let long = "a".repeat(64);
    assert!(
        record_from_form(&a_form(&long, "192.0.2.1"), &origin, Ttl(1))
            .unwrap_err()
            .for_field("owner")
            .is_some()
    );
    let mut f = a_form("bücher", "192.0.2.1");
    f.ttl = "2147483648".into();
    assert!(record_from_form(&f, &origin, Ttl(1))
        .unwrap_err()
        .for_field("ttl")
        .is_some());
    f.ttl = "1h".into();
    assert_eq!(
        record_from_form(&f, &origin, Ttl(1)).unwrap().owner,
        n("xn--bcher-kva.example.com.")
    );

    // The paper's TXT values (Table 1) pasted exactly as printed there.
    let spf = "v=spf1 +a +mx +ptr +ip4:1.2.3.6 include:mail.anydomain.com ~all";
    let txt = RecordForm {
        owner: "@".into(),
        rtype: "TXT".into(),
        value: format!("\"{spf}\""),
        ..Default::default()
    };
    let r = record_from_form(&txt, &origin, Ttl(1)).unwrap();
    assert_eq!(r.rdata, RData::Txt(vec![spf.as_bytes().to_vec()]));
    assert_eq!(r.rdata.to_string(), format!("\"{spf}\""));
    let google = "google-site-verification=-Aqw1jSo8lsOZwbwd-cQ5bQvtm-M1DqVEHEIKXZ1z6U";
    let txt = RecordForm {
        value: google.into(),
        ..txt
    };
    assert_eq!(
        record_from_form(&txt, &origin, Ttl(1)).unwrap().rdata,
        RData::Txt(vec![google.as_bytes().to_vec()])
    );
    let long_txt = RecordForm {
        value: "x".repeat(600),
        ..txt
    };
    match record_from_form(&long_txt, &origin, Ttl(1)).unwrap().rdata {
        RData::Txt(s) => assert_eq!(
            s.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![255, 255, 90]
        ),
        other => panic!("{other:?}"),
    }

    let mx = RecordForm {
        owner: "@".into(),
        rtype: "MX".into(),
        exchange: "mail".into(),
        preference: "x".into(),
        ..Default::default()
    };
    assert!(record_from_form(&mx, &origin, Ttl(1))
        .unwrap_err()
        .for_field("preference")
        .is_some());
    let mx = RecordForm {
        preference: "10".into(),
        ..mx
    };
    assert_eq!(
        record_from_form(&mx, &origin, Ttl(1))
            .unwrap()
            .rdata
            .to_string(),
        "10 mail.example.com."
    );
    let srv = RecordForm {
        owner: "_sip._tcp".into(),
        rtype: "SRV".into(),
        priority: "1".into(),
        weight: "2".into(),
        port: "70000".into(),
        target: "sip".into(),
        ..Default::default()
    };
    assert!(record_from_form(&srv, &origin, Ttl(1))
        .unwrap_err()
        .for_field("port")
        .is_some());
    let bad = RecordForm {
        rtype: "HINFO".into(),
        owner: "x".into(),
        ..Default::default()
    };
    assert!(record_from_form(&bad, &origin, Ttl(1))
        .unwrap_err()
        .for_field("type")
        .is_some());
    // Round trip through the edit form.
    for r in [
        record_from_form(&mx, &origin, Ttl(1)).unwrap(),
        record_from_form(&a_form("www", "192.0.2.1"), &origin, Ttl(1)).unwrap(),
        record_from_form(
            &RecordForm {
                value: "\"a b\" \"c\"".into(),
                owner: "t".into(),
                rtype: "TXT".into(),
                ..Default::default()
            },
            &origin,
            Ttl(1),
        )
        .unwrap(),
    ] {
        assert_eq!(
            record_from_form(&form_of(&r, &origin), &origin, Ttl(9)).unwrap(),
            r
        );
    }
}

#[tokio::test]
async fn a_record_with_ptr_creates_updates_and_removes_it() {
    let (_dir, db) = sqlite().await;
    let z = create_forward(&db, "alice", "example.com").await.unwrap();
    // No reverse zone and not asked to create one: refused, nothing saved.
    let e = save_record(
        &db,
        "alice",
        z.id,
        None,
        &a_form("www", "192.0.2.10"),
        PtrChoice {
            also_ptr: true,
            create_reverse: false,
        },
    )
    .await
    .unwrap_err();
    assert!(e
        .for_field("also_ptr")
        .unwrap()
        .contains("No reverse zone holds 192.0.2.10"));
    assert!(store::load_zone(&db, z.id)
        .await
        .unwrap()
        .records
        .is_empty());
    // A bad address: message by the field, nothing saved.
    let e = save_record(
        &db,
        "alice",
        z.id,
        None,
        &a_form("www", "192.0.2.300"),
        PtrChoice::default(),
    )
    .await
    .unwrap_err();
    assert!(e.for_field("address").is_some());

    let out = save_record(
        &db,
        "alice",
        z.id,
        None,
        &a_form("www", "192.0.2.10"),
        PtrChoice {
            also_ptr: true,
            create_reverse: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        out.ptr.unwrap(),
        "PTR 10.2.0.192.in-addr.arpa. → www.example.com. in 2.0.192.in-addr.arpa."
    );
    let rev = store::find_zone(&db, &n("2.0.192.in-addr.arpa."))
        .await
        .unwrap()
        .unwrap();
    let ptrs = |z: Zone| {
        z.records
            .iter()
            .filter(|r| r.rtype() == RecordType::Ptr)
            .map(|r| format!("{} {}", r.owner, r.rdata))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ptrs(store::load_zone(&db, rev.id).await.unwrap()),
        vec!["10.2.0.192.in-addr.arpa. www.example.com."]
    );
    let detail = detail(&db, z.id).await.unwrap();
    assert!(detail.records[0].has_ptr);

    // Duplicate: refused next to the address.
    let e = save_record(
        &db,
        "alice",
        z.id,
        None,
        &a_form("www", "192.0.2.10"),
        PtrChoice::default(),
    )
    .await
    .unwrap_err();
    assert!(e
        .for_field("address")
        .unwrap()
        .starts_with("duplicate record"));

    // Edit the address: the PTR moves.
    let key = detail.records[0].key.clone();
    save_record(
        &db,
        "bob",
        z.id,
        Some(&key),
        &a_form("www", "192.0.2.11"),
        PtrChoice {
            also_ptr: true,
            create_reverse: false,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        ptrs(store::load_zone(&db, rev.id).await.unwrap()),
        vec!["11.2.0.192.in-addr.arpa. www.example.com."]
    );
    // Delete: the PTR goes too.
    let key = detail_key(&db, z.id).await;
    let out = delete_record(&db, "bob", z.id, &key).await.unwrap();
    assert!(out.ptr.unwrap().contains("removed"));
    assert!(ptrs(store::load_zone(&db, rev.id).await.unwrap()).is_empty());
    assert!(store::load_zone(&db, z.id)
        .await
        .unwrap()
        .records
        .is_empty());
}

async fn detail_key(db: &DatabaseConnection, id: i32) -> String {
    detail(db, id).await.unwrap().records[0].key.clone()
}
