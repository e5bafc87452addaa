// Example queries shown on the home page. Each one is checked against the real query parser by the
// SearchApi tests (Ui/UiContentTests), so keep the ['query', 'what it finds'] shape on one line each.

export const EXAMPLES = [
  ['port:22 product:OpenSSH', 'OpenSSH servers'],
  ['port:3306,5432,6379,27017 -net:10.0.0.0/8', 'databases reachable outside 10/8'],
  ['http.title:"Index of"', 'open directory listings'],
  ['has_ssl:true ssl.cert.expired:true', 'TLS services with expired certificates'],
  ['ssl.version:tlsv1,tlsv1.1', 'services still offering TLS 1.0 or 1.1'],
  ['product:nginx version:1.18*', 'an old nginx branch'],
  ['"Server: Apache" country:DE', 'Apache in Germany, by banner text'],
  ['port:23,2323 -product:*', 'unidentified Telnet ports'],
  ['tag:self-signed after:2026-01-01', 'self-signed certificates seen this year'],
];

// Facets on the results page's sidebar, in Shodan's facets= syntax (name:size). Checked by the same tests.
export const SEARCH_FACETS = 'port:8,product:8,version:8,country:8,org:8,asn:8,tag:8';

// Facets on the home page's overview of the whole index.
export const OVERVIEW_FACETS = 'port:10,product:10,country:10';

export const FACET_LABELS = {
  port: 'Port',
  product: 'Product',
  version: 'Version',
  country: 'Country',
  org: 'Organization',
  asn: 'ASN',
  tag: 'Tag',
};
