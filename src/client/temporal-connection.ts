import { readFile } from 'node:fs/promises';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config/config';

/** What the client Connection and the worker NativeConnection both take. */
interface ConnectionOptions {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
}

async function readTlsFile(variable: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new Error(`${variable}: cannot read '${file}': ${(err as Error).message}`);
  }
}

async function connectionOptions({ temporal }: Config): Promise<ConnectionOptions> {
  const options: ConnectionOptions = { address: temporal.address };
  if (temporal.tls) {
    const { caFile, certFile, keyFile } = temporal.tls;
    options.tls = {
      serverRootCACertificate: caFile ? await readTlsFile('TEMPORAL_TLS_CA_FILE', caFile) : undefined,
      clientCertPair:
        certFile && keyFile
          ? {
              crt: await readTlsFile('TEMPORAL_TLS_CERT_FILE', certFile),
              key: await readTlsFile('TEMPORAL_TLS_KEY_FILE', keyFile),
            }
          : undefined,
    };
  }
  if (temporal.apiKey) {
    // API keys are bearer tokens, so they only travel over TLS (as Temporal Cloud requires).
    options.apiKey = temporal.apiKey.reveal();
    options.tls ??= true;
  }
  return options;
}

/** A client Connection, for starting and signalling workflows. The caller closes it. */
export async function connectClient(config: Config): Promise<Connection> {
  return Connection.connect(await connectionOptions(config));
}

/** A Client bound to the configured namespace; close it with `client.connection.close()`. */
export async function createClient(config: Config): Promise<Client> {
  const connection = await connectClient(config);
  return new Client({ connection, namespace: config.temporal.namespace });
}

/** A NativeConnection for a Worker. The caller closes it after the worker has stopped. */
export async function connectWorker(config: Config): Promise<NativeConnection> {
  return NativeConnection.connect(await connectionOptions(config));
}
