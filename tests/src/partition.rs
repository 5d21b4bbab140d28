//! A TCP proxy that can cut the network between a client and a server, for tests of a
//! partitioned dependency (the Kubernetes API server): connections pass through until
//! [`PartitionProxy::cut`]. Until [`PartitionProxy::heal`], new connections are refused (closed
//! at once) or swallowed (accepted, never answered: the client's own timeout is all it gets).
//! Open connections are closed, or with [`Link::Silent`] silenced for good, as when a NAT
//! forgets them: no close and no reset ever reaches either end.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the proxy does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Bytes pass both ways.
    Up,
    /// New connections are closed at once (the host answers, nothing listens).
    Refused,
    /// New connections are held and never answered (packets dropped on the way).
    Blackhole,
    /// As `Blackhole`, and the open connections stay open but carry nothing more, even once
    /// the link is healed.
    Silent,
}

/// The proxy; it stops when dropped.
pub struct PartitionProxy {
    address: SocketAddr,
    link: watch::Sender<Link>,
    task: tokio::task::JoinHandle<()>,
}

impl PartitionProxy {
    /// A proxy on a free 127.0.0.1 port in front of `target`.
    pub async fn start(target: SocketAddr) -> PartitionProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port for the proxy");
        let address = listener.local_addr().expect("the proxy's address");
        let (link, watching) = watch::channel(Link::Up);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(relay(client, target, watching.clone()));
            }
        });
        PartitionProxy { address, link, task }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Cuts the network: open connections are closed (silenced with [`Link::Silent`]); new
    /// ones get `how`.
    pub fn cut(&self, how: Link) {
        self.link.send_replace(how);
    }

    /// Lets bytes pass again.
    pub fn heal(&self) {
        self.link.send_replace(Link::Up);
    }
}

impl Drop for PartitionProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(mut client: TcpStream, target: SocketAddr, mut link: watch::Receiver<Link>) {
    let now = *link.borrow_and_update();
    match now {
        Link::Refused => return,
        Link::Blackhole | Link::Silent => {
            // Held, unanswered, until the link comes back; then closed.
            let _ = link.wait_for(|link| *link == Link::Up).await;
            return;
        }
        Link::Up => {}
    }
    let Ok(mut server) = TcpStream::connect(target).await else {
        return;
    };
    let cut = tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => return,
        cut = link.wait_for(|link| *link != Link::Up) => cut.map(|cut| *cut),
    };
    if matches!(cut, Ok(Link::Silent)) {
        // Both sockets stay open and unread until the proxy stops.
        std::future::pending::<()>().await;
    }
}
