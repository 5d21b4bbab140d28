//! Where the investigator consumes: a consumer offset moved other than by applying records.

use serde::{Deserialize, Serialize};

/// A partition's stored offset was moved: it lay outside the log the broker holds (a topic
/// deleted and created again, a broker that lost its data, records removed by retention) and
/// the policy (`INVESTIGATOR_OFFSET_RESET`) moved it, or an operator did
/// (`investigator offsets reset`). Records between the old and the new offset are not applied
/// (a reset forward) or applied again (a reset back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerOffsetReset {
    /// The consumer group whose offset moved.
    pub consumer_group: String,
    /// The full topic name.
    pub topic: String,
    /// Its partition.
    pub partition: i32,
    /// The stored next offset before the reset (`None`: there was none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored_offset: Option<i64>,
    /// The first offset the broker held then (`None`: not asked, an operator's reset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low_watermark: Option<i64>,
    /// The offset after the last record the broker held then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high_watermark: Option<i64>,
    /// What moved it: `earliest` or `latest` (the policy), or `operator`.
    pub policy: String,
    /// The stored next offset now.
    pub reset_to: i64,
}
