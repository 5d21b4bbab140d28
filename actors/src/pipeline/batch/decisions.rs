//! Step four of a batch: the rule actors decide, with retries for rules that panic.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use actix::Addr;
use futures_util::future::join_all;
use investigator_core::decide::{Decision, Knowledge, Rejection, Rule};

use crate::pipeline::PipelineSettings;
use crate::pipeline::metrics::{Metrics, handler_label};
use crate::pipeline::rule_actor::{DecideBatch, DecideItem, ItemOutcome, RuleActor};

/// The rule actors, by rule.
pub type RuleActors = BTreeMap<Rule, Addr<RuleActor>>;

/// One handler's answer for one item.
pub(super) type HandlerDecision = (Rule, Result<Decision, Rejection>);

/// What the handlers made of the batch's items.
#[derive(Debug, Default)]
pub(super) struct Decided {
    /// Per item, what each handler decided (or rejected), in handler order.
    pub decisions: BTreeMap<usize, Vec<HandlerDecision>>,
    /// Per item, the handlers that failed every attempt.
    pub failures: BTreeMap<usize, Vec<RuleFailure>>,
}

/// A handler that panicked on an item at every attempt.
#[derive(Debug)]
pub(super) struct RuleFailure {
    pub handler: Rule,
    /// The last panic's message.
    pub reason: String,
    pub attempts: u32,
}

/// Sends each handler its items, in batch order, and retries what failed: after a panic the
/// handler is restarted by its supervisor, and the items from the failed one on are sent
/// again after `backoff * attempt`, with the knowledge updated by everything decided so far.
///
/// Each handler folds its own decisions into its own copy of the knowledge as it goes; the
/// decisions of every handler are folded into the shared knowledge only when a retry round
/// follows (rarely: a handler panicked), so a batch without panics folds each decision once.
pub(super) async fn decide_all(
    items: Vec<(Rule, DecideItem)>,
    knowledge: Knowledge,
    handlers: &RuleActors,
    settings: &PipelineSettings,
    metrics: &Metrics,
) -> Decided {
    let mut pending: BTreeMap<Rule, Vec<DecideItem>> = BTreeMap::new();
    for (handler, item) in items {
        pending.entry(handler).or_default().push(item);
    }
    let mut knowledge = Arc::new(knowledge);
    let mut decided = Decided::default();
    let mut attempts: HashMap<(usize, Rule), u32> = HashMap::new();
    while !pending.is_empty() {
        let rounds = pending.into_iter().map(|(handler, items)| {
            let request = handlers
                .get(&handler)
                .map(|address| address.send(DecideBatch { items: items.clone(), knowledge: Arc::clone(&knowledge) }));
            async move {
                let outcomes = match request {
                    Some(request) => request.await.unwrap_or_else(|error| {
                        items
                            .iter()
                            .map(|item| (item.index, ItemOutcome::Panicked(format!("handler unavailable: {error}"))))
                            .collect()
                    }),
                    None => items
                        .iter()
                        .map(|item| (item.index, ItemOutcome::Panicked("no such handler running".to_owned())))
                        .collect(),
                };
                (handler, items, outcomes)
            }
        });
        let mut retry: BTreeMap<Rule, Vec<DecideItem>> = BTreeMap::new();
        let mut decided_this_round: Vec<(usize, Rule)> = Vec::new();
        let mut longest_wait = 0;
        for (handler, items, outcomes) in join_all(rounds).await {
            let by_index: HashMap<usize, &DecideItem> = items.iter().map(|item| (item.index, item)).collect();
            for (index, outcome) in outcomes {
                let Some(item) = by_index.get(&index) else { continue };
                match outcome {
                    ItemOutcome::Decided(result) => {
                        decided.decisions.entry(index).or_default().push((handler, result));
                        decided_this_round.push((index, handler));
                    }
                    ItemOutcome::Panicked(reason) => {
                        let attempt = attempts.entry((index, handler)).or_default();
                        *attempt += 1;
                        metrics.exceptions.with_label_values(&[&handler_label(item.message.kind())]).inc();
                        if *attempt >= settings.max_retries.max(1) {
                            decided.failures.entry(index).or_default().push(RuleFailure {
                                handler,
                                reason,
                                attempts: *attempt,
                            });
                        } else {
                            longest_wait = longest_wait.max(*attempt);
                            retry.entry(handler).or_default().push((*item).clone());
                        }
                    }
                    ItemOutcome::NotRun => retry.entry(handler).or_default().push((*item).clone()),
                }
            }
        }
        if !retry.is_empty() {
            // Every handler's requests sent, the shared copy has one owner again: no clone.
            let shared = Arc::make_mut(&mut knowledge);
            for (index, handler) in decided_this_round {
                let decision = decided.decisions.get(&index).and_then(|decisions| {
                    decisions.iter().find(|(by, _)| *by == handler).and_then(|(_, result)| result.as_ref().ok())
                });
                if let Some(decision) = decision {
                    shared.observe(&decision.events);
                }
            }
            for items in retry.values_mut() {
                items.sort_by_key(|item| item.index);
            }
            tokio::time::sleep(settings.backoff * longest_wait.max(1)).await;
        }
        pending = retry;
    }
    for handlers in decided.decisions.values_mut() {
        handlers.sort_by_key(|(handler, _)| *handler);
    }
    decided
}
