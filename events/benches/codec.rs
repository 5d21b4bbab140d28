//! Decode and encode throughput over the golden messages (all 19 types, every field set).
//! Prints figures; asserts nothing about speed. Run: `cargo bench -p investigator-events --bench codec`.

use std::hint::black_box;
use std::time::Instant;

use investigator_events::thoth::{MessageKind, ThothMessage};

const FULL_EXPECTED: &str = include_str!("../tests/golden/thoth-messages.full.expected.jsonl");

fn main() {
    let records: Vec<(MessageKind, &[u8])> =
        FULL_EXPECTED.lines().zip(MessageKind::ALL).map(|(line, kind)| (kind, line.as_bytes())).collect();
    let bytes_per_round: usize = records.iter().map(|(_, payload)| payload.len()).sum();
    let rounds = 20_000;

    let started = Instant::now();
    for _ in 0..rounds {
        for (kind, payload) in &records {
            black_box(ThothMessage::decode(*kind, payload).expect("golden records decode"));
        }
    }
    let decode_seconds = started.elapsed().as_secs_f64();

    let messages: Vec<ThothMessage> =
        records.iter().map(|(kind, payload)| ThothMessage::decode(*kind, payload).expect("decodes")).collect();
    let started = Instant::now();
    for _ in 0..rounds {
        for message in &messages {
            black_box(message.encode());
        }
    }
    let encode_seconds = started.elapsed().as_secs_f64();

    let count = (rounds * records.len()) as f64;
    let megabytes = (rounds * bytes_per_round) as f64 / 1e6;
    println!("messages: {} (19 types x {rounds} rounds), mean size {} bytes", count, bytes_per_round / records.len());
    println!(
        "decode: {:>10.0} msg/s  {:>6.1} MB/s  {:>5.2} us/msg",
        count / decode_seconds,
        megabytes / decode_seconds,
        decode_seconds / count * 1e6
    );
    println!(
        "encode: {:>10.0} msg/s  {:>6.1} MB/s  {:>5.2} us/msg",
        count / encode_seconds,
        megabytes / encode_seconds,
        encode_seconds / count * 1e6
    );
}
