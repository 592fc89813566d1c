import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { stdoutSink } from '../shared/audit';
import { systemClock } from '../shared/clock';
import { Stores } from '../shared/stores';
import { loadRegisterConfig } from './config';
import { buildRegisterHandler } from './handler';
import { dailyRegistrationCounter } from './registration';

const config = loadRegisterConfig(process.env);
const db = new DynamoDBClient({});
const stores = new Stores(db, { clients: config.tables.clients, codes: '', grants: '' });
const { maxPerDay } = config.registration;

export const handler = buildRegisterHandler({
  config,
  stores,
  clock: systemClock,
  sink: stdoutSink,
  countRegistration: maxPerDay ? dailyRegistrationCounter(db, config.tables.clients, maxPerDay, systemClock) : undefined,
});
