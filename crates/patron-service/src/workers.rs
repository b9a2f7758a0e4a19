//! Background workers: started together by the composition root, told to stop together on
//! shutdown and joined, and restarted (after a second) when one panics, so a worker is never
//! silently gone.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long a panicked worker waits before it is started again.
const RESTART_DELAY: Duration = Duration::from_secs(1);

/// Tells a worker when to stop. Workers check it between rounds, so a round in progress
/// (a job batch, a delivery) always finishes.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    /// Resolves once shutdown has been asked for.
    pub async fn requested(&mut self) {
        // An error means the sender is gone, which is a shutdown too.
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    /// Waits `period`, or less when shutdown is asked for first; returns whether it was.
    pub async fn sleep(&mut self, period: Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(period) => false,
            () = self.requested() => true,
        }
    }
}

/// The running workers.
pub struct Workers {
    stop: watch::Sender<bool>,
    running: Vec<JoinHandle<()>>,
}

impl Default for Workers {
    fn default() -> Self {
        Self::new()
    }
}

impl Workers {
    /// No workers yet.
    pub fn new() -> Self {
        Self {
            stop: watch::channel(false).0,
            running: Vec::new(),
        }
    }

    /// Runs the worker `make` builds, under supervision: when it panics the panic is logged
    /// and a new one starts; when it returns (it saw the shutdown) it is done.
    pub fn spawn<F, Fut>(&mut self, name: &'static str, make: F)
    where
        F: Fn(Shutdown) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let mut shutdown = Shutdown(self.stop.subscribe());
        self.running.push(tokio::spawn(async move {
            loop {
                match tokio::spawn(make(shutdown.clone())).await {
                    Ok(()) => return,
                    Err(error) if error.is_panic() => {
                        tracing::error!(worker = name, "worker panicked; restarting it");
                    }
                    Err(_) => return,
                }
                if shutdown.sleep(RESTART_DELAY).await {
                    return;
                }
            }
        }));
    }

    /// Asks every worker to stop and waits until each has.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for worker in self.running {
            let _ = worker.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn a_panicking_worker_is_restarted_and_all_stop_on_shutdown() {
        let starts = Arc::new(AtomicUsize::new(0));
        let mut workers = Workers::new();
        let counter = starts.clone();
        workers.spawn("flaky", move |mut shutdown| {
            let counter = counter.clone();
            async move {
                if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                    panic!("first run fails");
                }
                shutdown.requested().await;
            }
        });
        while starts.load(Ordering::SeqCst) < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        workers.shutdown().await;
        assert_eq!(starts.load(Ordering::SeqCst), 2);
    }
}
