"""confluent-kafka-python (librdkafka) client of ClientCompatibilityTest.

  confluent_kafka_client.py BOOTSTRAP TOPIC GROUP produce FIRST COUNT
  confluent_kafka_client.py BOOTSTRAP TOPIC GROUP consume EXPECTED TIMEOUT_SECONDS

produce: messages FIRST..FIRST+COUNT-1 with acks=all; message i has key k(i%10) and value k(i%10)-(i/10); every
  delivery report must be a success.
consume: subscribes in GROUP, reads until EXPECTED records came (then polls one more second to catch any extra
  one) or the timeout passed, commits synchronously and closes, printing "key TAB value TAB partition TAB offset".
"""
import sys
import time

import confluent_kafka
from confluent_kafka import Consumer, KafkaError, Producer


def produce(bootstrap, topic, first, count):
    producer = Producer({'bootstrap.servers': bootstrap, 'acks': 'all', 'message.timeout.ms': 30000})
    failures = []

    def report(err, msg):
        if err is not None:
            failures.append(str(err))

    for i in range(first, first + count):
        key = 'k%d' % (i % 10)
        producer.produce(topic, key=key, value='%s-%d' % (key, i // 10), on_delivery=report)
        producer.poll(0)
    left = producer.flush(30)
    if left or failures:
        print('not delivered: %d left, failures %s' % (left, failures[:5]), file=sys.stderr)
        sys.exit(1)
    print('produced %d' % count, file=sys.stderr)


def consume(bootstrap, topic, group, expected, timeout):
    consumer = Consumer({
        'bootstrap.servers': bootstrap,
        'group.id': group,
        'auto.offset.reset': 'earliest',
        'enable.auto.commit': False,
        'session.timeout.ms': 10000,
        'heartbeat.interval.ms': 1000,
    })
    consumer.subscribe([topic])
    seen = 0
    deadline = time.monotonic() + timeout
    linger_until = None
    while time.monotonic() < (deadline if linger_until is None else min(deadline, linger_until)):
        msg = consumer.poll(0.2)
        if msg is None:
            pass
        elif msg.error():
            print('consumer error: %s' % msg.error(), file=sys.stderr)
        else:
            print('%s\t%s\t%d\t%d' % (msg.key().decode(), msg.value().decode(), msg.partition(), msg.offset()))
            seen += 1
        if seen >= expected and linger_until is None:
            linger_until = time.monotonic() + 1
    sys.stdout.flush()
    if seen:
        consumer.commit(asynchronous=False)
    consumer.close()
    print('consumed %d' % seen, file=sys.stderr)


def main():
    print('client version: confluent-kafka %s librdkafka %s'
          % (confluent_kafka.version()[0], confluent_kafka.libversion()[0]), file=sys.stderr)
    if len(sys.argv) != 7:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    bootstrap, topic, group, mode, a, b = sys.argv[1:]
    if mode == 'produce':
        produce(bootstrap, topic, int(a), int(b))
    elif mode == 'consume':
        consume(bootstrap, topic, group, int(a), int(b))
    else:
        print('unknown mode ' + mode, file=sys.stderr)
        sys.exit(2)


if __name__ == '__main__':
    main()
