//! Re-driven dead letters on Kafka: each `DeadLetterRedriven` event with bytes still to publish
//! (`republish`) has them published to the dead letter's own topic, with no key, as Thoth's
//! producers send, after the event committed. The event is the outbox: a re-drive is recorded
//! once (against the letter's stream version) and published at least once, whatever crashes.

use investigator_events::domain::{DomainEvent, EventType};
use investigator_projections::store::StoredEvent;

use super::{LogCopy, RelayRecord};

/// Re-driven records, back to their topics.
#[derive(Debug, Clone, Copy, Default)]
pub struct RedriveCopy;

impl LogCopy for RedriveCopy {
    const NAME: &'static str = "kafka_redrives";
    const EVENT_TYPE: Option<EventType> = Some(EventType::DeadLetterRedriven);
    // Unused: each record names its own topic.
    const BASE_NAME: &'static str = "thoth.investigator.dead-letter";

    fn record(&self, event: &StoredEvent) -> Option<RelayRecord> {
        let Ok(recorded) = event.decode() else {
            tracing::error!(position = event.position, "a re-drive this build cannot read is not published");
            return None;
        };
        let DomainEvent::DeadLetterRedriven(redriven) = recorded.event else { return None };
        let bytes = redriven.republish?.to_bytes()?;
        Some(RelayRecord {
            topic: Some(redriven.topic),
            key: None,
            value: Some(bytes),
            headers: vec![("event_type", b"DeadLetterRedriven".to_vec())],
        })
    }
}
