"""kafka-python client of ClientCompatibilityTest.

  kafka_python_client.py BOOTSTRAP TOPIC GROUP produce FIRST COUNT
  kafka_python_client.py BOOTSTRAP TOPIC GROUP consume EXPECTED TIMEOUT_SECONDS

produce: messages FIRST..FIRST+COUNT-1 with acks=all; message i has key k(i%10) and value k(i%10)-(i/10); every
  send must succeed.
consume: subscribes in GROUP, reads until EXPECTED records came (then polls one more second to catch any extra
  one) or the timeout passed, commits synchronously and closes, printing "key TAB value TAB partition TAB offset".

The broker version is detected by kafka-python itself (no api_version given) unless the environment variable
KAFKA_PYTHON_API_VERSION (such as 2.5.0) sets it.
"""
import logging
import os
import sys
import time

import kafka
from kafka import KafkaConsumer, KafkaProducer


def settings():
    common = {'bootstrap_servers': sys.argv[1]}
    forced = os.environ.get('KAFKA_PYTHON_API_VERSION')
    if forced:
        common['api_version'] = tuple(int(part) for part in forced.split('.'))
    return common


def produce(topic, first, count):
    producer = KafkaProducer(acks='all', request_timeout_ms=30000, **settings())
    print('detected broker api_version: %s' % (producer.config['api_version'],), file=sys.stderr)
    futures = []
    for i in range(first, first + count):
        key = 'k%d' % (i % 10)
        futures.append(producer.send(topic, key=key.encode(), value=('%s-%d' % (key, i // 10)).encode()))
    producer.flush(30)
    for future in futures:
        future.get(timeout=30)
    producer.close(10)
    print('produced %d' % count, file=sys.stderr)


def consume(topic, group, expected, timeout):
    consumer = KafkaConsumer(group_id=group, auto_offset_reset='earliest', enable_auto_commit=False,
                             session_timeout_ms=10000, heartbeat_interval_ms=1000, **settings())
    print('detected broker api_version: %s' % (consumer.config['api_version'],), file=sys.stderr)
    consumer.subscribe([topic])
    seen = 0
    deadline = time.monotonic() + timeout
    linger_until = None
    while time.monotonic() < (deadline if linger_until is None else min(deadline, linger_until)):
        for records in consumer.poll(timeout_ms=200).values():
            for record in records:
                print('%s\t%s\t%d\t%d' % (record.key.decode(), record.value.decode(), record.partition, record.offset))
                seen += 1
        if seen >= expected and linger_until is None:
            linger_until = time.monotonic() + 1
    sys.stdout.flush()
    consumer.commit()
    consumer.close()
    print('consumed %d' % seen, file=sys.stderr)


def main():
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    print('client version: kafka-python %s' % kafka.__version__, file=sys.stderr)
    if len(sys.argv) != 7:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    _, topic, group, mode, a, b = sys.argv[1:]
    if mode == 'produce':
        produce(topic, int(a), int(b))
    elif mode == 'consume':
        consume(topic, group, int(a), int(b))
    else:
        print('unknown mode ' + mode, file=sys.stderr)
        sys.exit(2)


if __name__ == '__main__':
    main()
