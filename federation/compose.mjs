// Composes the supergraph from running subgraphs: fetches each one's `_service { sdl }` and
// writes the supergraph SDL that Hive Gateway serves (README "Behind a supergraph").
//
//   node compose.mjs OUTPUT NAME=URL [NAME=URL ...]
//
// PI_GATEWAY_TOKEN, when set, is sent as `Authorization: Bearer` (pi-gateway answers no
// request without a token; any role may read the SDL). Composition errors go to stderr, exit 1.
import { writeFileSync } from 'node:fs';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';

async function fetchSdl(url, token) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: '{ _service { sdl } }' }),
  });
  const body = await response.json();
  if (!body.data) throw new Error(`${url} gave no SDL (HTTP ${response.status}): ${JSON.stringify(body.errors)}`);
  return body.data._service.sdl;
}

const [output, ...pairs] = process.argv.slice(2);
if (!output || pairs.length === 0) {
  console.error('usage: node compose.mjs OUTPUT NAME=URL [NAME=URL ...]');
  process.exit(2);
}
const services = [];
for (const pair of pairs) {
  const at = pair.indexOf('=');
  const [name, url] = [pair.slice(0, at), pair.slice(at + 1)];
  services.push({ name, url, typeDefs: parse(await fetchSdl(url, process.env.PI_GATEWAY_TOKEN)) });
}
const result = composeServices(services);
if (result.errors && result.errors.length) {
  console.error(result.errors.map((error) => error.message).join('\n'));
  process.exit(1);
}
writeFileSync(output, result.supergraphSdl);
console.log(`composed ${services.map((service) => service.name).join(' + ')} into ${output}`);
