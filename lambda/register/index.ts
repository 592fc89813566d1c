import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { stdoutSink } from '../shared/audit';
import { systemClock } from '../shared/clock';
import { loadConfig, requireTable } from '../shared/config';
import { Stores } from '../shared/stores';
import { buildRegisterHandler } from './handler';
import { dailyRegistrationCounter } from './registration';

const config = loadConfig();
const db = new DynamoDBClient({});
const clientsTable = requireTable(config, 'clients');
const stores = new Stores(db, { clients: clientsTable, codes: '', grants: '' });
const { maxPerDay } = config.registration;

export const handler = buildRegisterHandler({
  config,
  stores,
  clock: systemClock,
  sink: stdoutSink,
  countRegistration: maxPerDay ? dailyRegistrationCounter(db, clientsTable, maxPerDay, systemClock) : undefined,
});
