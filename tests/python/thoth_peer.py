#!/usr/bin/env python3
"""Thoth's side of the interop tests: thoth-messaging 0.16.2 models and producer helper.

Subcommands (all print JSON on stdout, diagnostics on stderr):
  golden FILE                  for each entry of a messaging-CLI file, the bytes the model's
                               .json() writes, one line per entry (the golden files)
  publish FILE                 publish every entry with thoth.messaging.producer.publish_to_topic
  consume --count N            read the deployment's 19 topics from the beginning until N records
                               (and --settle seconds more), parse every record with its
                               thoth-messaging model and report each

Kafka settings come from the environment exactly as thoth-messaging reads them
(KAFKA_BOOTSTRAP_SERVERS, THOTH_DEPLOYMENT_NAME, ...).
"""

import argparse
import json
import sys
import time

import thoth.messaging as messaging
from thoth.messaging.config import kafka_config_from_env
from thoth.messaging.producer import create_producer, publish_to_topic

MESSAGE_TYPES = {message.base_name: message for message in messaging.ALL_MESSAGES}


def read_entries(path):
    with open(path, "rb") as handle:
        return json.load(handle)


def golden(args):
    for entry in read_entries(args.file):
        model = MESSAGE_TYPES[entry["topic_name"]].model
        print(model.parse_obj(entry["message_contents"]).json())


def publish(args):
    producer = create_producer()
    sent = []
    for entry in read_entries(args.file):
        message_type = MESSAGE_TYPES[entry["topic_name"]]
        publish_to_topic(producer, message_type, entry["message_contents"])
        sent.append(message_type.topic_name)
    left = producer.flush(30)
    if left:
        sys.exit(f"{left} messages were not delivered")
    print(json.dumps({"sent": sent}))


def consume(args):
    from confluent_kafka import Consumer, TopicPartition

    config = kafka_config_from_env()
    config.setdefault("group.id", "thoth-peer")
    config["enable.auto.commit"] = False
    consumer = Consumer(config)
    topics = {message.topic_name: base for base, message in MESSAGE_TYPES.items()}
    metadata = consumer.list_topics(timeout=10)
    assignment = [
        TopicPartition(topic, partition, 0)
        for topic in topics
        if topic in metadata.topics
        for partition in metadata.topics[topic].partitions
    ]
    consumer.assign(assignment)
    records = []
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        if len(records) >= args.count:
            # Keep listening briefly, so that records beyond the expected count are seen too.
            deadline = min(deadline, time.monotonic() + args.settle)
        record = consumer.poll(0.1)
        if record is None:
            continue
        if record.error():
            print(f"consumer error: {record.error()}", file=sys.stderr)
            continue
        base_name = topics[record.topic()]
        raw = record.value().decode("utf-8")
        report = {"topic": record.topic(), "base_name": base_name, "raw": raw, "key": record.key(),
                  "headers": record.headers()}
        try:
            parsed = MESSAGE_TYPES[base_name].model.parse_raw(raw)
            report.update(parsed=parsed.json(), error=None)
        except Exception as error:  # a parse failure is a finding to report, not a crash
            report.update(parsed=None, error=str(error))
        records.append(report)
    consumer.close()
    print(json.dumps({"records": records}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, handler in (("golden", golden), ("publish", publish)):
        command = commands.add_parser(name)
        command.add_argument("file")
        command.set_defaults(handler=handler)
    command = commands.add_parser("consume")
    command.add_argument("--count", type=int, required=True)
    command.add_argument("--timeout", type=float, default=60.0)
    command.add_argument("--settle", type=float, default=0.5, help="seconds to keep reading after --count records")
    command.set_defaults(handler=consume)
    args = parser.parse_args()
    args.handler(args)


if __name__ == "__main__":
    main()
