// Node globals jsdom does not expose but react-dom/server and @grafana/ui need at import.
const { TextDecoder, TextEncoder } = require('util');

Object.assign(global, { TextDecoder, TextEncoder });
