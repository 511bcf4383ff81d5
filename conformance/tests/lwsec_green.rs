//! The tester runs green against lwsec itself: its server (plain, demanding
//! cookies, accepting early data) and its client.

mod common;

use common::*;

#[test]
fn lwsec_server_passes() {
    let addr = start_server(ServerSetup::default());
    let mut t = server_target(addr);
    let out = lwsec_conformance::run_server(&mut t, &[]);
    print(&out);
    assert!(failed(&out).is_empty(), "failed: {:?}", failed(&out));
    // Only what this server is not set up for is skipped.
    for id in skipped(&out) {
        assert!(
            id.starts_with("server.cookie.")
                || [
                    "server.early.accepted",
                    "server.early.replayed",
                    "server.early.stale"
                ]
                .contains(&id.as_str()),
            "unexpected skip {id}"
        );
    }
    assert!(out.len() > 100);
}

#[test]
fn lwsec_server_demanding_cookies_passes_section_4_5() {
    let addr = start_server(ServerSetup {
        cookies: true,
        ..Default::default()
    });
    let mut t = server_target(addr);
    let out = lwsec_conformance::run_server(&mut t, &["4.5".to_string()]);
    print(&out);
    assert!(failed(&out).is_empty(), "failed: {:?}", failed(&out));
    let cookie: Vec<_> = out
        .iter()
        .filter(|o| o.id.starts_with("server.cookie."))
        .collect();
    assert_eq!(cookie.len(), 5);
    assert!(
        cookie
            .iter()
            .all(|o| matches!(o.verdict, lwsec_conformance::Verdict::Pass(_)))
    );
}

#[test]
fn lwsec_server_with_early_data_passes_section_4_9() {
    let addr = start_server(ServerSetup {
        early_data: true,
        ..Default::default()
    });
    let mut t = server_target(addr);
    let out = lwsec_conformance::run_server(&mut t, &["4.9".to_string()]);
    print(&out);
    assert!(failed(&out).is_empty(), "failed: {:?}", failed(&out));
    assert!(skipped(&out).is_empty(), "skipped: {:?}", skipped(&out));
}

#[test]
fn lwsec_client_passes() {
    let mut t = client_target(Box::new(LwsecClient { via: None }));
    let out = lwsec_conformance::run_client(&mut t, &[]);
    print(&out);
    assert!(failed(&out).is_empty(), "failed: {:?}", failed(&out));
    assert_eq!(
        skipped(&out),
        vec!["client.early.status_missing".to_string()]
    );
}
