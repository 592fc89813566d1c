import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { stdoutSink } from '../shared/audit';
import { systemClock } from '../shared/clock';
import { ClientStore } from '../shared/client-store';
import { loadRegisterConfig } from './config';
import { buildRegisterHandler } from './handler';
import { dailyRegistrationCounter } from './registration';

const config = loadRegisterConfig(process.env);
const db = new DynamoDBClient({});
const stores = { clients: new ClientStore(db, config.tables.clients) };
const { maxPerDay } = config.registration;

export const handler = buildRegisterHandler({
  config,
  stores,
  clock: systemClock,
  sink: stdoutSink,
  countRegistration: maxPerDay ? dailyRegistrationCounter(db, config.tables.clients, maxPerDay, systemClock) : undefined,
});
