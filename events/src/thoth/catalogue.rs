//! The one list of Thoth's 19 message types. [`MessageKind`] and its `ALL`, the
//! [`ThothMessage`] enum, the conversions and the dispatch by kind are all generated from it,
//! so none of them can miss a type or disagree on one.

use crate::thoth::DecodeError;
use crate::thoth::decode::decode_as;
use crate::thoth::message::{AnyWireMessage, Header, WireMessage};
use crate::thoth::messages::*;

macro_rules! catalogue {
    ($($kind:ident),* $(,)?) => {
        /// One of the 19 Thoth message types.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(missing_docs)] // each variant is documented on its message struct
        pub enum MessageKind {
            $($kind,)*
        }

        impl MessageKind {
            /// Every kind, in thoth-messaging's alphabetical order.
            pub const ALL: [MessageKind; 19] = [$(MessageKind::$kind,)*];
        }

        /// One message of any of Thoth's 19 types.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[allow(missing_docs)] // each variant is documented on its struct
        pub enum ThothMessage {
            $($kind($kind),)*
        }

        $(
            impl WireMessage for $kind {
                const KIND: MessageKind = MessageKind::$kind;

                fn header(&self) -> Header<'_> {
                    Header {
                        component_name: &self.component_name,
                        service_version: &self.service_version,
                        version: self.version.as_deref(),
                    }
                }
            }

            impl From<$kind> for ThothMessage {
                fn from(message: $kind) -> Self {
                    ThothMessage::$kind(message)
                }
            }
        )*

        impl ThothMessage {
            /// The struct inside, whatever its type.
            pub(crate) fn inner(&self) -> &dyn AnyWireMessage {
                match self {
                    $(ThothMessage::$kind(message) => message,)*
                }
            }
        }

        /// Decodes `payload` as a message of `kind`; errors name `topic`.
        pub(crate) fn decode_kind(kind: MessageKind, topic: &str, payload: &[u8]) -> Result<ThothMessage, DecodeError> {
            match kind {
                $(MessageKind::$kind => decode_as::<$kind>(topic, payload).map(ThothMessage::$kind),)*
            }
        }
    };
}

catalogue!(
    AdviseJustification,
    AdviserTrigger,
    BuildAnalysisTrigger,
    CveProvided,
    HashMismatch,
    InspectionCompleted,
    KebechetRunUrlTrigger,
    KebechetTrigger,
    MissingPackage,
    MissingVersion,
    PackageExtractTrigger,
    PackageReleased,
    ProvenanceCheckerTrigger,
    SiUnanalyzedPackage,
    SolvedPackage,
    ThothRepoInit,
    UnresolvedPackage,
    UnrevsolvedPackage,
    UpdateProvidesSourceDistro,
);
