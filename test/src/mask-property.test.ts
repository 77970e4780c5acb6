// Property: the default mask removes every credential shape and credential value, in prose, in
// JSON, and inside the JSON strings that span attributes are, and leaves clean text alone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { defaultMask } from '@lakehouse/langfuse-processor';
import {
  anySizeText,
  credentialName,
  credentialValue,
  hostileText,
  jsonLayers,
  quotedCredentialValue,
  secretShapes,
} from '@lakehouse/test-support';

function unwrap(text: string, n: number): string {
  let out = text;
  for (let i = 0; i < n; i++) {
    try {
      out = JSON.parse(out) as string;
    } catch {
      return text;
    }
  }
  return out;
}

const layers = fc.integer({ min: 0, max: 2 });
// Text around a secret; the separators keep it a token of its own.
const around = fc.tuple(
  hostileText(40),
  fc.constantFrom(' ', '\n', '\t', '(', '"', "'", ', ', ': ', '='),
);

void describe('property: defaultMask', () => {
  void it('removes every key shape wherever it stands, through 0-2 layers of JSON encoding', () => {
    fc.assert(
      fc.property(
        secretShapes,
        around,
        around,
        layers,
        ({ shape, secret }, [pre, l], [post, r], n) => {
          const text = jsonLayers(`${pre}${l}${secret}${r}${post}`, n);
          const masked = defaultMask(text);
          assert.ok(!masked.includes(secret), `${shape} survived in ${JSON.stringify(masked)}`);
        },
      ),
      { numRuns: 2000 },
    );
  });

  void it('removes credential values written name=value, name: "value", or as JSON members', () => {
    const forms = [
      (k: string, v: string) => `${k}=${v}`,
      (k: string, v: string) => `${k}: ${v}`,
      (k: string, v: string) => `${k}="${v.replace(/["\\]/g, '')}"`,
      (k: string, v: string) => `${k}: '${v.replace(/['\\]/g, '')}'`,
      (k: string, v: string) => JSON.stringify({ note: 'x', [k]: v }),
      (k: string, v: string) => JSON.stringify({ [k]: v }, null, 2),
      (k: string, v: string) => `https://api.example.com/v1?${k}=${encodeURIComponent(v)}&q=1`,
    ];
    fc.assert(
      fc.property(
        credentialName,
        fc.oneof(credentialValue, quotedCredentialValue),
        fc.integer({ min: 0, max: forms.length - 1 }),
        around,
        layers,
        (name, value, form, [pre, sep], n) => {
          // Unquoted forms end the value at whitespace or quotes; those values are for quoted forms.
          const v = form < 2 ? value.replace(/[\s"'\\]/g, '') : value;
          const written = forms[form]!(name, v);
          const masked = defaultMask(jsonLayers(`${pre}${sep}${written}`, n));
          // Undo the outer layers, then look for the value as the form wrote it.
          const decoded = unwrap(masked, n);
          const needle =
            form === 6 ? encodeURIComponent(v) : form >= 4 ? JSON.stringify(v).slice(1, -1) : v;
          assert.ok(
            !decoded.includes(needle),
            `${JSON.stringify(written)} -> ${JSON.stringify(masked)}`,
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  void it('removes Bearer tokens, Basic credentials and URL passwords', () => {
    const user = fc.stringMatching(/^[a-z][a-z0-9._-]{0,12}$/);
    fc.assert(
      fc.property(
        user,
        credentialValue,
        secretShapes,
        around,
        layers,
        (u, password, { secret }, [pre, sep], n) => {
          const basic = Buffer.from(`${u}:${password}`).toString('base64');
          const texts = [
            `curl -H "X-Custom: Basic ${basic}"`,
            `Authorization: Bearer ${password}`,
            JSON.stringify({ headers: { authorization: `Basic ${basic}` } }),
            `postgres://${u}:${password.replace(/[@/?#]/g, '')}@db.internal:5432/app`,
            `Bearer ${secret}`,
          ];
          for (const text of texts) {
            const masked = defaultMask(jsonLayers(`${pre}${sep}${text}`, n));
            for (const needle of [basic, password.replace(/[@/?#]/g, ''), secret]) {
              if (text.includes(needle))
                assert.ok(
                  !masked.includes(needle),
                  `${JSON.stringify(text)} -> ${JSON.stringify(masked)}`,
                );
            }
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  void it(
    'is idempotent and never throws, whatever the input and its size',
    { timeout: 120_000 },
    () => {
      fc.assert(
        fc.property(anySizeText(200_000), fc.option(secretShapes), (text, sample) => {
          const input = sample === null ? text : `${text} ${sample.secret} ${text}`;
          const once = defaultMask(input);
          assert.equal(defaultMask(once), once);
        }),
        { numRuns: 300 },
      );
    },
  );

  void it('leaves text without credentials unchanged', () => {
    const words = fc.constantFrom(
      'Basic',
      'information',
      'bearer',
      'of',
      'news',
      'max_tokens:',
      '4096',
      'token_type',
      'tokens',
      'task-skeleton',
      'sk-short',
      'monkey',
      'keyboard',
      'the',
      'secretary',
      'W-2109',
      'Allentown,',
      'PA',
      '{"role":"user"}',
      'https://example.com/a?b=c',
      'é中😀',
      '\n',
    );
    fc.assert(
      fc.property(fc.array(words, { maxLength: 30 }), layers, (parts, n) => {
        const text = jsonLayers(parts.join(' '), n);
        assert.equal(defaultMask(text), text);
      }),
      { numRuns: 2000 },
    );
  });
});
