// What the pytest hook (tests/clients/test_miniprogram_client.py) prepared: the live console, the simulator,
// login methods and a few accounts, as JSON in MINICLIENT_FIXTURES.
export const fixtures = process.env.MINICLIENT_FIXTURES ? JSON.parse(process.env.MINICLIENT_FIXTURES) : null;

/** node:test's skip option when no console is running: tests that need one say why they did not run. */
export const needsConsole = fixtures
  ? {}
  : { skip: 'MINICLIENT_FIXTURES is unset: run `pytest tests/clients`, which starts the console and the simulator' };
