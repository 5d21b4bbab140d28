//! The rule actors: one per decision [`Rule`] (a "handler" in Thoth's words), each on its own
//! arbiter (thread), supervised.
//!
//! An actor applies the pure rules of `investigator_core::decide` to the items of a batch it
//! is given, in order, folding each decision into its copy of the knowledge so later items
//! see earlier effects. actix does not catch panics, so the actor does: the item that
//! panicked is reported, the rest of the batch is reported not run, and the actor stops; its
//! `Supervisor` starts it again, and the recorder retries the items (with backoff).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use actix::{Actor, Context, MessageResult, Supervised};
use investigator_core::decide::{Decision, DecisionSettings, Knowledge, MessageOrigin, Rejection, Rule, decide};
use investigator_events::thoth::ThothMessage;

use super::PanicInjection;
use super::metrics::Metrics;

/// One message for a rule.
#[derive(Debug, Clone)]
pub struct DecideItem {
    /// Its place in the batch.
    pub index: usize,
    /// The decoded message.
    pub message: Arc<ThothMessage>,
    /// Where it came from.
    pub origin: MessageOrigin,
}

/// Decide these items, in order, from this knowledge.
#[derive(Debug)]
pub struct DecideBatch {
    pub items: Vec<DecideItem>,
    /// What the graph knew when the batch started, plus the effects decided so far.
    pub knowledge: Arc<Knowledge>,
}

/// What became of one item.
#[derive(Debug, Clone)]
pub enum ItemOutcome {
    /// The rules decided (or rejected the message).
    Decided(Result<Decision, Rejection>),
    /// The handler panicked on it.
    Panicked(String),
    /// An earlier item panicked; this one was not tried.
    NotRun,
}

impl actix::Message for DecideBatch {
    type Result = Vec<(usize, ItemOutcome)>;
}

/// A supervised handler.
pub struct RuleActor {
    handler: Rule,
    settings: Arc<DecisionSettings>,
    injection: Option<PanicInjection>,
    metrics: Metrics,
}

impl RuleActor {
    /// A handler of kind `handler`.
    pub fn new(
        handler: Rule,
        settings: Arc<DecisionSettings>,
        injection: Option<PanicInjection>,
        metrics: Metrics,
    ) -> Self {
        RuleActor { handler, settings, injection, metrics }
    }

    fn decide_one(&self, item: &DecideItem, knowledge: &Knowledge) -> Result<Decision, Rejection> {
        if self.injection.as_ref().is_some_and(|injection| injection.should_panic(self.handler)) {
            panic!("injected panic in {:?} (INVESTIGATOR_INJECT_PANIC)", self.handler);
        }
        decide(self.handler, &item.message, &item.origin, knowledge, &self.settings)
    }
}

impl Actor for RuleActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Bounded: a recorder that outruns its handlers waits instead of queueing without end.
        ctx.set_mailbox_capacity(4);
    }
}

impl Supervised for RuleActor {
    fn restarting(&mut self, _ctx: &mut Context<Self>) {
        let handler = format!("{:?}", self.handler);
        self.metrics.handler_restarts.with_label_values(&[&handler]).inc();
        tracing::warn!(handler, "handler restarted after a panic");
    }
}

impl actix::Handler<DecideBatch> for RuleActor {
    type Result = MessageResult<DecideBatch>;

    fn handle(&mut self, batch: DecideBatch, ctx: &mut Context<Self>) -> Self::Result {
        let mut knowledge = Knowledge::clone(&batch.knowledge);
        let mut outcomes = Vec::with_capacity(batch.items.len());
        let mut panicked = false;
        for item in &batch.items {
            if panicked {
                outcomes.push((item.index, ItemOutcome::NotRun));
                continue;
            }
            match catch_unwind(AssertUnwindSafe(|| self.decide_one(item, &knowledge))) {
                Ok(decided) => {
                    if let Ok(decision) = &decided {
                        knowledge.observe(&decision.events);
                    }
                    outcomes.push((item.index, ItemOutcome::Decided(decided)));
                }
                Err(payload) => {
                    let message = panic_message(payload.as_ref());
                    tracing::error!(handler = ?self.handler, topic = item.origin.topic, offset = item.origin.offset, message, "handler panicked");
                    outcomes.push((item.index, ItemOutcome::Panicked(message)));
                    panicked = true;
                }
            }
        }
        if panicked {
            // The supervisor restarts the actor with a fresh context; state that a panic may
            // have left half-updated is not kept (the knowledge copy above is dropped).
            actix::ActorContext::stop(ctx);
        }
        MessageResult(outcomes)
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "panic with a non-text payload".to_owned()
    }
}
