//! Credentials: 401 with a basic challenge for scripts, the login form and its cookie for
//! browsers, and no cross-site form posts.

use ferromq_testkit::TestBroker;
use hyper::Method;

use crate::support::{As, Console};

#[tokio::test]
async fn missing_or_wrong_credentials_are_401_with_a_challenge() {
    let broker = TestBroker::with_console("").await;
    let http = Console {
        addr: broker.console_addr(),
    };
    let paths = [
        (Method::GET, "/api/v1/queues"),
        (Method::GET, "/api/v1/overview"),
        (Method::GET, "/metrics"),
        (Method::POST, "/api/message/q?type=queue&body=x"),
        (Method::GET, "/api/message/q?type=queue"),
        (Method::DELETE, "/no/such/path"),
    ];
    for (method, path) in paths {
        for who in [As::Nobody, As::Wrong] {
            let reply = http
                .request(method.clone(), path, who, &[], Vec::new())
                .await;
            let error = reply.error(401);
            assert!(error.contains("authentication"), "{path}: {error}");
            let challenge = reply.header("www-authenticate").unwrap_or_default();
            assert!(challenge.starts_with("Basic realm="), "{path}: {challenge}");
        }
    }
    // A wrong password is refused on pages too, even though a missing one goes to the form;
    // unknown paths look no different from known ones.
    for path in ["/queues", "/no/such/path"] {
        let page = http
            .request(Method::GET, path, As::Wrong, &[], Vec::new())
            .await;
        assert_eq!(page.status, 401, "{path}");
        let page = http
            .request(Method::GET, path, As::Nobody, &[], Vec::new())
            .await;
        assert_eq!(page.status, 303, "{path}");
    }
    // Nothing was sent by the refused POST.
    assert_eq!(
        http.get("/api/v1/queues").await.json(),
        serde_json::json!([])
    );
}

#[tokio::test]
async fn browsers_log_in_with_the_form_and_a_cookie() {
    let broker = TestBroker::with_console("").await;
    let http = Console {
        addr: broker.console_addr(),
    };
    let page = http
        .request(Method::GET, "/queues", As::Nobody, &[], Vec::new())
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(page.header("location"), Some("/login?next=%2Fqueues"));
    let form = http
        .request(
            Method::GET,
            "/login?next=%2Fqueues",
            As::Nobody,
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(form.status, 200);
    assert!(form.text().contains("name=\"password\""));

    let form_type = [("content-type", "application/x-www-form-urlencoded")];
    let wrong = http
        .request(
            Method::POST,
            "/login",
            As::Nobody,
            &form_type,
            b"user=admin&password=nope&next=%2Fqueues".to_vec(),
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.text().contains("Wrong user name or password"));
    assert!(wrong.header("set-cookie").is_none());

    let right = http
        .request(
            Method::POST,
            "/login",
            As::Nobody,
            &form_type,
            b"user=admin&password=admin&next=%2Fqueues".to_vec(),
        )
        .await;
    assert_eq!(right.status, 303);
    assert_eq!(right.header("location"), Some("/queues"));
    let set_cookie = right.header("set-cookie").unwrap().to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"),
        "{set_cookie}"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let with_cookie = [("cookie", cookie.as_str())];
    let page = http
        .request(Method::GET, "/queues", As::Nobody, &with_cookie, Vec::new())
        .await;
    assert_eq!(page.status, 200, "{}", page.text());
    let api = http
        .request(
            Method::GET,
            "/api/v1/queues",
            As::Nobody,
            &with_cookie,
            Vec::new(),
        )
        .await;
    assert_eq!(api.status, 200);

    let out = http
        .request(
            Method::POST,
            "/logout",
            As::Nobody,
            &with_cookie,
            Vec::new(),
        )
        .await;
    assert_eq!(out.status, 303);
    let page = http
        .request(Method::GET, "/queues", As::Nobody, &with_cookie, Vec::new())
        .await;
    assert_eq!(page.status, 303, "the session ended with the logout");

    // After login only paths on this console are followed.
    let offsite = http
        .request(
            Method::POST,
            "/login",
            As::Nobody,
            &form_type,
            b"user=admin&password=admin&next=%2F%2Fevil.example%2F".to_vec(),
        )
        .await;
    assert_eq!(offsite.header("location"), Some("/"));
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let broker = TestBroker::with_console("").await;
    let http = Console {
        addr: broker.console_addr(),
    };
    let reply = http
        .request(
            Method::POST,
            "/api/message/q?type=queue&body=x",
            As::Admin,
            &[("origin", "http://evil.example")],
            Vec::new(),
        )
        .await;
    let error = reply.error(403);
    assert!(error.contains("cross-site"), "{error}");
    let same_site = format!("http://{}", broker.console_addr());
    let reply = http
        .request(
            Method::POST,
            "/api/message/q?type=queue&body=x",
            As::Admin,
            &[("origin", same_site.as_str())],
            Vec::new(),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}
