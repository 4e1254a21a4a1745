//! The console in a real browser: headless Chromium driven over WebDriver (chromedriver)
//! logs in, sends a message through the form, sees the queue's pending count change without a
//! reload, browses the message, and saves a screenshot to `<target>/test-output/console.png`.
//!
//! Skips, saying so, when `chromium` or `chromedriver` is missing (`scripts/test` installs
//! Debian's `chromium` and `chromium-driver`).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use ferromq_testkit::{TestBroker, CONSOLE_PASSWORD, CONSOLE_USER, WAIT};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::support::Console;

/// The whole browser session, start to screenshot, must fit in this.
const SESSION_LIMIT: Duration = Duration::from_secs(90);

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// chromedriver, killed when the test ends however it ends.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    // chromedriver cannot report a port it picked itself; take one the OS just handed out.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

async fn start_driver(program: &Path) -> Driver {
    let port = free_port();
    let child = Command::new(program)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver { child, port };
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "chromedriver never listened on {port}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    driver
}

async fn browser(driver: &Driver, chromium: &Path, profile: &Path) -> Client {
    let args = [
        "--headless".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-quic".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--window-size=1280,1100".to_owned(),
        format!("--user-data-dir={}", profile.display()),
    ];
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({ "binary": chromium.display().to_string(), "args": args }),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a chromium session")
}

/// Waits until the text of the first element matching `css` satisfies `done`. Elements are
/// looked up afresh each time because the live refresh replaces them.
async fn wait_for_text(client: &Client, css: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Ok(element) = client.find(Locator::Css(css)).await {
            if let Ok(text) = element.text().await {
                if done(&text) {
                    return text;
                }
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "'{css}' never showed what was expected"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn screenshot_path() -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target>/tmp; the output goes beside it.
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent()
        .unwrap_or(tmp)
        .join("test-output")
        .join("console.png")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_sends_and_browses_in_chromium() {
    let Some(chromium) = find_program(&["chromium", "chromium-browser", "google-chrome"]) else {
        eprintln!("SKIPPED browser test: no chromium on PATH (Debian: apt-get install chromium chromium-driver; scripts/test does it)");
        return;
    };
    let Some(chromedriver) = find_program(&["chromedriver"]) else {
        eprintln!("SKIPPED browser test: no chromedriver on PATH (Debian: apt-get install chromium-driver; scripts/test does it)");
        return;
    };
    tokio::time::timeout(SESSION_LIMIT, session(&chromium, &chromedriver))
        .await
        .expect("the browser session finished in time");
}

async fn session(chromium: &Path, chromedriver: &Path) {
    let broker = TestBroker::with_console("").await;
    let http = Console {
        addr: broker.console_addr(),
    };
    // One message first, so the row is there and the test sees its count go from 1 to 2.
    let sent = http
        .post_form(
            "/api/message/browser.q?type=queue",
            &[("body", "sent with curl")],
        )
        .await;
    assert_eq!(sent.status, 200);

    let driver = start_driver(chromedriver).await;
    let profile = tempfile::tempdir().expect("profile dir");
    let client = browser(&driver, chromium, profile.path()).await;
    let base = format!("http://{}", broker.console_addr());

    // Logging in: the queues page sends us to the form, the form back to the queues page.
    client.goto(&format!("{base}/queues")).await.expect("open");
    assert_eq!(client.current_url().await.expect("url").path(), "/login");
    client
        .find(Locator::Id("user"))
        .await
        .expect("user field")
        .send_keys(CONSOLE_USER)
        .await
        .expect("type");
    client
        .find(Locator::Id("password"))
        .await
        .expect("password field")
        .send_keys(CONSOLE_PASSWORD)
        .await
        .expect("type");
    client
        .find(Locator::Id("login"))
        .await
        .expect("login button")
        .click()
        .await
        .expect("click");
    wait_for_text(&client, "h1", |t| t == "Queues").await;
    let pending = "tr[data-queue=\"browser.q\"] td.pending";
    assert_eq!(wait_for_text(&client, pending, |_| true).await, "1");

    // A mark that a reload would wipe out.
    client
        .execute("window.notReloaded = 'yes'; return true;", vec![])
        .await
        .expect("mark");
    client
        .find(Locator::Id("send-destination"))
        .await
        .expect("queue field")
        .send_keys("browser.q")
        .await
        .expect("type");
    client
        .find(Locator::Id("send-body"))
        .await
        .expect("body field")
        .send_keys("hello from chromium")
        .await
        .expect("type");
    client
        .find(Locator::Id("send-button"))
        .await
        .expect("send button")
        .click()
        .await
        .expect("click");
    wait_for_text(&client, "#flash .notice", |t| t.starts_with("Sent ID:")).await;
    wait_for_text(&client, pending, |t| t == "2").await;
    let mark = client
        .execute("return window.notReloaded || null;", vec![])
        .await
        .expect("mark");
    assert_eq!(
        mark,
        json!("yes"),
        "the page reloaded instead of updating in place"
    );

    // Browsing: the message is there with its body.
    client
        .find(Locator::Css("tr[data-queue=\"browser.q\"] td a"))
        .await
        .expect("browse link")
        .click()
        .await
        .expect("click");
    wait_for_text(&client, "h1", |t| t == "Queue browser.q").await;
    let bodies = client
        .find_all(Locator::Css("pre.body"))
        .await
        .expect("bodies");
    let mut texts = Vec::new();
    for body in bodies {
        texts.push(body.text().await.expect("text"));
    }
    assert!(
        texts.iter().any(|t| t == "hello from chromium"),
        "{texts:?}"
    );
    assert_eq!(
        wait_for_text(&client, "#queue-pending", |_| true).await,
        "2"
    );

    let png = client.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    let path = screenshot_path();
    std::fs::create_dir_all(path.parent().expect("folder")).expect("output folder");
    std::fs::write(&path, &png).expect("screenshot written");
    eprintln!("screenshot: {}", path.display());
    client.close().await.expect("close the browser");
}
