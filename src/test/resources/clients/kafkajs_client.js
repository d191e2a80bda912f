// kafkajs client of ClientCompatibilityTest (kafkajs is found through NODE_PATH).
//   node kafkajs_client.js BOOTSTRAP TOPIC GROUP produce FIRST COUNT
//   node kafkajs_client.js BOOTSTRAP TOPIC GROUP consume EXPECTED TIMEOUT_SECONDS
// produce: messages FIRST..FIRST+COUNT-1 with acks=all (-1); message i has key k(i%10) and value k(i%10)-(i/10).
// consume: subscribes in GROUP (fromBeginning: a new group starts at the earliest offset), reads until EXPECTED
//   records came (then waits one more second to catch any extra one) or the timeout passed, commits the next
//   offset of every partition it read from (autoCommit off) and disconnects (leaving the group), printing
//   "key TAB value TAB partition TAB offset".
'use strict';
const { Kafka, logLevel, Partitioners } = require('kafkajs');
const version = require('kafkajs/package.json').version;

const toStderr = () => ({ namespace, label, log }) => {
  const { message, ...extra } = log;
  console.error(`${label} [${namespace}] ${message} ${JSON.stringify(extra)}`);
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function produce(kafka, topic, first, count) {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const messages = [];
  for (let i = first; i < first + count; i++) {
    const key = `k${i % 10}`;
    messages.push({ key, value: `${key}-${Math.floor(i / 10)}` });
  }
  await producer.send({ topic, acks: -1, timeout: 30000, messages });
  await producer.disconnect();
  console.error(`produced ${count}`);
}

async function consume(kafka, topic, group, expected, timeoutSeconds) {
  const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10000, heartbeatInterval: 1000, maxWaitTimeInMs: 500 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const next = new Map();
  let seen = 0;
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      process.stdout.write(`${message.key.toString()}\t${message.value.toString()}\t${partition}\t${message.offset}\n`);
      next.set(partition, (BigInt(message.offset) + 1n).toString());
      seen++;
    },
  });
  const deadline = Date.now() + timeoutSeconds * 1000;
  while (seen < expected && Date.now() < deadline) {
    await sleep(100);
  }
  await sleep(Math.max(0, Math.min(1000, deadline - Date.now())));
  consumer.pause([{ topic }]);
  const offsets = [...next.entries()].map(([partition, offset]) => ({ topic, partition, offset }));
  if (offsets.length > 0) {
    await consumer.commitOffsets(offsets);
  }
  await consumer.disconnect();
  console.error(`consumed ${seen}`);
}

async function main() {
  console.error(`client version: kafkajs ${version}`);
  const args = process.argv.slice(2);
  if (args.length !== 6) {
    console.error('usage: BOOTSTRAP TOPIC GROUP produce FIRST COUNT | BOOTSTRAP TOPIC GROUP consume EXPECTED TIMEOUT_SECONDS');
    process.exit(2);
  }
  const [bootstrap, topic, group, mode, a, b] = args;
  const kafka = new Kafka({ clientId: 'weir-compat', brokers: [bootstrap], logLevel: logLevel.WARN, logCreator: toStderr });
  if (mode === 'produce') {
    await produce(kafka, topic, Number(a), Number(b));
  } else if (mode === 'consume') {
    await consume(kafka, topic, group, Number(a), Number(b));
  } else {
    console.error(`unknown mode ${mode}`);
    process.exit(2);
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
