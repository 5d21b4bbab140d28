//! The one list of domain event types with their current schema versions. [`EventType`],
//! [`DomainEvent`] and the dispatch by type are generated from it, so they cannot disagree.

use std::fmt;
use std::str::FromStr;

use super::adviser::*;
use super::consumer::*;
use super::dead_letter::*;
use super::decode::{EncodedEvent, EventDecodeError, decode_payload};
use super::index::*;
use super::learning::*;
use super::package::*;
use super::security::*;
use super::solver::*;
use super::workflow::*;

macro_rules! catalogue {
    ($($event:ident = $version:literal),* $(,)?) => {
        /// The type of a domain event, as stored in the log's `event_type` column.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(missing_docs)] // each variant is documented on its payload struct
        pub enum EventType {
            $($event,)*
        }

        impl EventType {
            /// Every type.
            pub const ALL: &'static [EventType] = &[$(EventType::$event,)*];

            /// The name stored in the log.
            pub fn name(self) -> &'static str {
                match self {
                    $(EventType::$event => stringify!($event),)*
                }
            }

            /// The schema version this build writes; older ones are upcast when read.
            pub fn current_version(self) -> i32 {
                match self {
                    $(EventType::$event => $version,)*
                }
            }

            /// The type of that name, if this build knows it.
            pub fn from_name(name: &str) -> Option<EventType> {
                match name {
                    $(stringify!($event) => Some(EventType::$event),)*
                    _ => None,
                }
            }
        }

        /// One domain event, at its current schema version.
        #[derive(Debug, Clone, PartialEq)]
        #[allow(missing_docs)] // each variant is documented on its payload struct
        pub enum DomainEvent {
            $($event($event),)*
        }

        $(
            impl From<$event> for DomainEvent {
                fn from(event: $event) -> Self {
                    DomainEvent::$event(event)
                }
            }
        )*

        impl DomainEvent {
            /// Its type.
            pub fn event_type(&self) -> EventType {
                match self {
                    $(DomainEvent::$event(_) => EventType::$event,)*
                }
            }

            /// The payload as stored: JSON of the current schema version.
            pub fn encode(&self) -> EncodedEvent {
                let payload = match self {
                    $(DomainEvent::$event(event) => serde_json::to_vec(event),)*
                };
                EncodedEvent {
                    event_type: self.event_type(),
                    // Serialising these plain structs to a Vec cannot fail: no maps with
                    // non-string keys, no failing Serialize impls.
                    payload: payload.unwrap_or_else(|error| unreachable!("event payloads always serialise: {error}")),
                }
            }

            /// Reads a stored event, upcasting an older schema version to the current one.
            pub fn decode(event_type: &str, schema_version: i32, payload: &[u8]) -> Result<DomainEvent, EventDecodeError> {
                let Some(kind) = EventType::from_name(event_type) else {
                    return Err(EventDecodeError::UnknownType { event_type: event_type.to_owned() });
                };
                match kind {
                    $(EventType::$event => decode_payload::<$event>(kind, schema_version, payload).map(DomainEvent::$event),)*
                }
            }
        }
    };
}

catalogue!(
    IndexRegistered = 2,
    IndexEnabled = 1,
    IndexDisabled = 1,
    PackageVersionSeen = 1,
    VersionMarkedMissing = 1,
    PackageMarkedMissing = 1,
    SourceDistributionFlagSet = 2,
    SolverResultRecorded = 2,
    SecurityIndicatorRecorded = 1,
    CveProvided = 1,
    HashMismatchRecorded = 1,
    WorkflowRequested = 2,
    WorkflowSubmitted = 1,
    WorkflowStarted = 1,
    WorkflowSucceeded = 1,
    WorkflowFailed = 1,
    MessageDeadLettered = 1,
    DeadLetterRedriven = 2,
    DeadLetterDiscarded = 1,
    AdviserRunRecorded = 1,
    AdviserParked = 1,
    AdviserReRunRequested = 1,
    LearningMessageQueued = 1,
    LearningThrottleChanged = 1,
    ConsumerOffsetReset = 1,
);

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EventType {
    type Err = EventDecodeError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        EventType::from_name(name).ok_or_else(|| EventDecodeError::UnknownType { event_type: name.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_versions_start_at_one() {
        for kind in EventType::ALL {
            assert_eq!(EventType::from_name(kind.name()), Some(*kind));
            assert!(kind.current_version() >= 1, "{kind}");
        }
        assert_eq!(EventType::from_name("NoSuchEvent"), None);
    }
}
