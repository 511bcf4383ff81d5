//! The tester runs green against lwsec itself: its server (plain, demanding
//! cookies, accepting early data) and its client.

mod common;

use common::*;

#[test]
fn lwsec_server_passes() {
    let addr = start_server(ServerSetup {
        tickets: true,
        ..Default::default()
    });
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
                    "server.early.stale",
                    "server.resume.early_data"
                ]
                .contains(&id.as_str()),
            "unexpected skip {id}"
        );
    }
    assert!(out.len() > 100);
    // Every resumption scenario ran.
    let resumption = out
        .iter()
        .filter(|o| o.sections.contains(&"4.11".to_string()));
    assert!(resumption.count() >= 25);
}

/// A server that issues no tickets (issuing them is optional): the
/// resumption scenarios that need a real ticket skip, saying why; those
/// that need only a refused one (ResumeRefused, the header checks) run.
#[test]
fn lwsec_server_without_tickets_skips_what_needs_a_ticket() {
    let addr = start_server(ServerSetup::default());
    let mut t = server_target(addr);
    let out = lwsec_conformance::run_server(&mut t, &["4.11".to_string()]);
    print(&out);
    assert!(failed(&out).is_empty(), "failed: {:?}", failed(&out));
    let skipped = skipped(&out);
    for id in [
        "server.ticket.issued",
        "server.resume.nk",
        "server.resume.ik",
        "server.resume.swapped_ticket",
        "server.resume.early_data",
    ] {
        assert!(skipped.contains(&id.to_string()), "{id} should skip");
    }
    for o in out.iter().filter(|o| skipped.contains(&o.id)) {
        let lwsec_conformance::Verdict::Skip(why) = &o.verdict else {
            unreachable!()
        };
        assert!(why.contains("sent no ticket record"), "{}: {why}", o.id);
    }
    for id in [
        "server.resume.forged_ticket",
        "server.resume.ticket_len_0",
        "server.two_rules.ticket_and_cookie",
        "server.two_rules.key_id_and_ticket",
    ] {
        assert!(
            out.iter()
                .any(|o| o.id == id && matches!(o.verdict, lwsec_conformance::Verdict::Pass(_))),
            "{id} should pass"
        );
    }
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
        tickets: true,
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
    let mut t = client_target(Box::new(LwsecClient {
        via: None,
        resumes: true,
    }));
    let out = lwsec_conformance::run_client(&mut t, &[]);
    print(&out);
    assert!(failed(&out).is_empty(), "failed: {:?}", failed(&out));
    assert_eq!(
        skipped(&out),
        vec!["client.early.status_missing".to_string()]
    );
}

/// A client that does not resume: the scenarios that need a resumption
/// skip, saying why; the ticket-record rules still apply and pass.
#[test]
fn lwsec_client_without_resumption_skips_what_needs_it() {
    let mut t = client_target(Box::new(LwsecClient {
        via: None,
        resumes: false,
    }));
    let out = lwsec_conformance::run_client(&mut t, &["4.11".to_string()]);
    print(&out);
    assert!(failed(&out).is_empty(), "failed: {:?}", failed(&out));
    let skipped = skipped(&out);
    assert!(!skipped.is_empty());
    assert!(skipped.iter().all(|id| id.starts_with("client.resume.")));
    assert!(skipped.contains(&"client.resume.accepted".to_string()));
    for o in &out {
        if o.id.starts_with("client.ticket.") || o.id == "client.resume.refused_not_resuming" {
            assert!(
                matches!(o.verdict, lwsec_conformance::Verdict::Pass(_)),
                "{}",
                o.id
            );
        }
    }
}
