//! A TLS terminator in front of a plaintext broker port: clients speak TLS to it (with the
//! certificate the test made), it speaks the Kafka protocol in plaintext to the broker. The
//! tansu broker here cannot serve TLS itself (its `--cert`/`--key` options are parsed, but the
//! acceptor is never used, and clap refuses the two together), so this is what a client's TLS
//! is tested against; everything behind it is the real broker.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The terminator; it stops accepting when dropped.
pub struct TlsProxy {
    address: SocketAddr,
    handshakes: Arc<AtomicUsize>,
    accepting: JoinHandle<()>,
}

impl TlsProxy {
    /// Listens on `listener` with the PEM certificate chain and PKCS#8 key, forwarding every
    /// connection that completes a handshake to `broker`.
    pub fn start(listener: std::net::TcpListener, certificate: &[u8], key: &[u8], broker: SocketAddr) -> TlsProxy {
        let identity = native_tls::Identity::from_pkcs8(certificate, key).expect("the test's certificate and key");
        let acceptor = native_tls::TlsAcceptor::new(identity).expect("a TLS acceptor");
        let acceptor = Arc::new(tokio_native_tls::TlsAcceptor::from(acceptor));
        listener.set_nonblocking(true).expect("non-blocking");
        let address = listener.local_addr().expect("an address");
        let listener = TcpListener::from_std(listener).expect("a tokio listener");
        let handshakes = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&handshakes);
        let accepting = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (acceptor, counted) = (Arc::clone(&acceptor), Arc::clone(&counted));
                tokio::spawn(async move {
                    // A client that refuses our certificate ends here: nothing reaches the broker.
                    let Ok(mut client) = acceptor.accept(client).await else { return };
                    counted.fetch_add(1, Ordering::SeqCst);
                    if let Ok(mut upstream) = TcpStream::connect(broker).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                });
            }
        });
        TlsProxy { address, handshakes, accepting }
    }

    /// `127.0.0.1:port`, for `bootstrap.servers`.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// TLS handshakes completed so far.
    pub fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}
