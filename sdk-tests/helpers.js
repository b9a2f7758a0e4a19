'use strict';
// Everything the SDK compatibility tests share, behind one `require('./helpers')`:
//   fixtures.js          useServer() and useFileServer(), registered at a file's top level
//   patron-process.js    the Patron binary: the admin CLI and `patron serve`
//   platform-client.js   OAuth tokens, the strict PlatformClient, raw platform HTTP (appApi)
//   storefront-client.js the ApplicationClient, its session cookie, registering shoppers
//   raw-http.js          rawRequest, the one way to send HTTP outside the SDK
//   assertions.js        expected successes and errors, response shapes, waiting
//   sample-data.js       unique test data, customers and attributes created through the SDK

module.exports = {
  ...require('./fixtures'),
  ...require('./patron-process'),
  ...require('./platform-client'),
  ...require('./storefront-client'),
  ...require('./raw-http'),
  ...require('./assertions'),
  ...require('./sample-data'),
};
