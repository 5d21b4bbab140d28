//! Consumer lag: each stored offset of `projections::queries::operations::status` compared
//! with its partition's high watermark (the broker's, or the embedded bus's head).

use investigator_actors::kafka::TopicAdmin;
use serde_json::{Value, json};

/// Adds `high_watermark` and `lag` to each row of `status["offsets"]`, and the total as
/// `status["lag"]`; takes the embedded bus's heads (`bus_heads`) out of `status`. A stored
/// offset beyond the high watermark is an anomaly (a topic created again, a broker that lost
/// its data): its lag is shown as it is, negative, the row is marked `beyond_log`, and
/// `status["offsets_beyond_log"]` counts such rows; it never lowers the total.
pub async fn add_lag(status: &mut Value, broker: Option<&TopicAdmin>) {
    let bus_heads = status.as_object_mut().and_then(|status| status.remove("bus_heads")).unwrap_or_default();
    let partitions: Vec<(String, i32)> = status["offsets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|row| {
            let topic = row["topic"].as_str().unwrap_or_default().to_owned();
            (topic, row["partition"].as_i64().and_then(|partition| i32::try_from(partition).ok()).unwrap_or(0))
        })
        .collect();
    let highs: Vec<Option<i64>> = match broker {
        Some(broker) => broker.high_watermarks(&partitions).await,
        None => partitions.iter().map(|(topic, _)| bus_heads[topic.as_str()].as_i64()).collect(),
    };
    let mut total = 0;
    let mut beyond = 0;
    if let Some(rows) = status["offsets"].as_array_mut() {
        for (row, high) in rows.iter_mut().zip(highs) {
            let lag = high.zip(row["next_offset"].as_i64()).map(|(high, next)| high - next);
            total += lag.unwrap_or(0).max(0);
            if lag.is_some_and(|lag| lag < 0) {
                beyond += 1;
                row["beyond_log"] = json!(true);
            }
            row["high_watermark"] = json!(high);
            row["lag"] = json!(lag);
        }
    }
    status["lag"] = json!(total);
    status["offsets_beyond_log"] = json!(beyond);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_embedded_bus_heads_give_each_offsets_lag() {
        let mut status = json!({
            "offsets": [{"topic": "a", "partition": 0, "next_offset": 2}, {"topic": "b", "partition": 0, "next_offset": 5}],
            "bus_heads": {"a": 7, "b": 5}
        });
        add_lag(&mut status, None).await;
        assert_eq!(status["offsets"][0]["lag"], 5);
        assert_eq!(status["offsets"][1]["high_watermark"], 5);
        assert_eq!(status["lag"], 5);
        assert!(status.get("bus_heads").is_none());
        assert_eq!(status["offsets_beyond_log"], 0);
    }

    #[tokio::test]
    async fn an_offset_beyond_the_log_shows_a_negative_lag_and_is_counted() {
        // A topic created again: 30,004 stored, one record on the new topic.
        let mut status = json!({
            "offsets": [{"topic": "a", "partition": 0, "next_offset": 30_004}, {"topic": "b", "partition": 0, "next_offset": 1}],
            "bus_heads": {"a": 1, "b": 4}
        });
        add_lag(&mut status, None).await;
        assert_eq!(status["offsets"][0]["lag"], -30_003);
        assert_eq!(status["offsets"][0]["beyond_log"], true);
        assert!(status["offsets"][1].get("beyond_log").is_none());
        assert_eq!(status["lag"], 3, "an anomaly never lowers the lag of the others");
        assert_eq!(status["offsets_beyond_log"], 1);
    }
}
