//! The learning drivers' decisions: which Thoth message each finding led to, and when a
//! driver held back because the system was busy.

use serde::{Deserialize, Serialize};

/// A driver found something to learn and queued the Thoth message that asks for it. The
/// message is published after the commit (the outbox relay), so a crash never loses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearningMessageQueued {
    /// `refresh`, `releases`, `updates` or `cves`.
    pub driver: String,
    /// What was found, as a stable key (`unresolved/<solver>/<index>/<name>/<version>`...):
    /// one finding is queued once per attempt.
    pub finding: String,
    /// 1 the first time; a gap still open after the retry interval is queued again.
    pub attempt: u32,
    /// Why, in words (`not solved by solver-rhel-8-py38`, `new on the index`...).
    pub reason: String,
    /// The Thoth base name of the message's topic.
    pub topic: String,
    /// The Thoth message, as thoth-messaging's JSON object.
    pub message: serde_json::Value,
}

/// A driver stopped queueing because the system was over a ceiling, or started again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearningThrottleChanged {
    /// The driver.
    pub driver: String,
    /// Whether it holds back from now on.
    pub throttled: bool,
    /// Messages waiting to be consumed on the topics the drivers feed (with the relay's
    /// backlog), when it changed.
    pub lag: i64,
    /// Workflows requested or submitted and not finished, when it changed.
    pub pending_workflows: i64,
    /// The lag ceiling in force.
    pub max_lag: i64,
    /// The pending-workflow ceiling in force.
    pub max_pending_workflows: i64,
}
