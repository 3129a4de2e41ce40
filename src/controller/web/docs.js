// The human-readable API page: Swagger UI over the controller's and the reducer's OpenAPI
// documents, with no call to any outside service (no validator badge).
window.SwaggerUIBundle({
  dom_id: '#api',
  urls: [
    { url: '/api/v1/openapi.json', name: 'controller' },
    { url: '/api/v1/reducer/openapi.json', name: 'reducer (through the controller)' },
  ],
  validatorUrl: null,
  presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
  deepLinking: true,
});
