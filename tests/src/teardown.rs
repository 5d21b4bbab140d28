//! Async clean-up from `Drop`, which cannot await.

use std::future::Future;

/// Runs `work` to completion on a runtime of its own, on a thread of its own, so it works
/// whether or not the dropping thread is inside a runtime.
pub(crate) fn run_to_completion<F>(work: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    let thread = std::thread::spawn(move || match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(work),
        Err(error) => eprintln!("teardown: cannot start a runtime: {error}"),
    });
    if thread.join().is_err() {
        eprintln!("teardown: the clean-up thread panicked");
    }
}
