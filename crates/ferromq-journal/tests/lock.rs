//! The directory lock: one journal per directory, released on close, drop and SIGKILL.

use std::sync::mpsc;
use std::time::Duration;

use ferromq_journal::{Journal, JournalError, LockMode};

use crate::common::*;

const CHILD_DIR_VAR: &str = "FERROMQ_JOURNAL_TEST_LOCK_CHILD_DIR";
const CHILD_READY: &str = "ferromq-journal-test: child holds the lock";

#[tokio::test]
async fn a_second_open_fails_fast_with_locked() {
    let dir = tempfile::tempdir().unwrap();
    let config = fast_config(dir.path());
    let (journal, _) = open(&config);
    match Journal::open(config.clone().with_lock(LockMode::Fail)) {
        Err(JournalError::Locked { path }) => assert_eq!(path, dir.path().join("lock")),
        other => panic!("expected Locked, got {other:?}"),
    }
    journal.close().await.unwrap();
    let (_journal, _) = open(&config);
}

#[tokio::test]
async fn a_waiting_open_proceeds_after_close() {
    let dir = tempfile::tempdir().unwrap();
    let config = fast_config(dir.path());
    let (journal, _) = open(&config);
    commit(&journal, vec![put("q", 1, b"x")]).await;

    let (tx, rx) = mpsc::channel();
    let waiting = config.clone().with_lock(LockMode::Wait);
    let waiter = std::thread::spawn(move || {
        let result = Journal::open(waiting);
        let _ = tx.send(());
        result
    });
    // While the first journal is open the waiter must still be blocked.
    assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
    journal.close().await.unwrap();
    let (second, recovered) = waiter.join().unwrap().unwrap();
    assert_eq!(recovered.spaces["q"].messages, 1);
    second.close().await.unwrap();
}

#[test]
fn a_waiting_open_proceeds_after_the_holder_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let config = fast_config(dir.path());
    let (journal, _) = open(&config);
    let waiting = config.with_lock(LockMode::Wait);
    let waiter = std::thread::spawn(move || Journal::open(waiting));
    drop(journal);
    let (_second, _) = waiter.join().unwrap().unwrap();
}

/// Runs only as the child of `sigkill_releases_the_lock` (it is ignored otherwise): takes
/// the lock, says so, and waits to be killed.
#[test]
#[ignore = "helper process for sigkill_releases_the_lock"]
fn child_holds_lock() {
    let Some(dir) = std::env::var_os(CHILD_DIR_VAR) else {
        return;
    };
    let (_journal, _) = open(&fast_config(std::path::Path::new(&dir)));
    println!("{CHILD_READY}");
    // Bounded, so a parent that dies first does not leave this process behind for long.
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn sigkill_releases_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_helper(
        "lock::child_holds_lock",
        &[(CHILD_DIR_VAR, dir.path().as_os_str())],
    );
    assert!(
        helper_printed(&mut child, CHILD_READY),
        "child never took the lock"
    );

    let config = fast_config(dir.path()).with_lock(LockMode::Fail);
    assert!(matches!(
        Journal::open(config.clone()),
        Err(JournalError::Locked { .. })
    ));

    child.kill().unwrap(); // SIGKILL on Unix: no destructor, no unlock call
    child.wait().unwrap();
    let (_journal, _) = open(&config);
}
