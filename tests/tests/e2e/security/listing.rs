//! An index answering the version lister with a page that never ends.

use std::time::Duration;

use investigator_tests::peak_memory::peak_resident_mib;
use investigator_tests::{TestDatabase, TestKafka, eventually};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::MEMORY_CEILING_MIB;
use crate::pipeline::messages::unresolved_every_version;
use crate::pipeline::{applied_records, publish, serve};

/// An index on loopback whose every page is HTML that never ends, sent as fast as the
/// connection takes it; gives its simple API's URL.
async fn endless_index() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = vec![0; 4096];
                let _ = stream.read(&mut request).await;
                let head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n";
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let anchors = "<a href=\"/p/flask-1.0.tar.gz\">flask-1.0.tar.gz</a>\n".repeat(4096);
                let chunk = format!("{:x}\r\n{anchors}\r\n", anchors.len());
                while stream.write_all(chunk.as_bytes()).await.is_ok() {}
            });
        }
    });
    format!("http://{address}/simple")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_index_streaming_an_endless_page_is_cut_off_and_memory_stays_bounded() {
    let index = endless_index().await;
    let kafka = TestKafka::new();
    let database = TestDatabase::create().await;
    let service =
        serve(&kafka, &database, &[("THOTH_INDEXES", &index), ("INVESTIGATOR_INDEX_TIMEOUT_MS", "1500")]).await;
    let pid = service.pid().expect("a running service");

    publish(&kafka, &[unresolved_every_version("flask", &index)]).await;
    let db = &database.database;
    eventually("the record applied", Duration::from_secs(60), || async { applied_records(db).await == 1 }).await;

    let peak = peak_resident_mib(pid).expect("the service runs");
    println!("serve's peak resident memory with an index streaming an endless page: {peak:.0} MiB");
    assert!(peak < MEMORY_CEILING_MIB, "serve's peak memory: {peak:.0} MiB");
    assert!(
        service.log_text().contains("larger than 16777216 bytes"),
        "the lister says why it used the graph's versions:\n{}",
        service.log_text()
    );
}
