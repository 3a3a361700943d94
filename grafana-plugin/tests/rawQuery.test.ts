import { parseRawQuery } from '../src/datasource/components/rawQuery';

describe('raw query JSON', () => {
  it('accepts a query of the contract', () => {
    const text = JSON.stringify({ queryType: 'slo', selector: 'team=payments', sloTarget: 99.5, sloWindow: '7d' });
    expect(parseRawQuery(text)).toEqual({
      query: { queryType: 'slo', selector: 'team=payments', sloTarget: 99.5, sloWindow: '7d' },
    });
  });

  it.each([
    ['{"queryType":"graph"}', /^queryType: expected series, state/],
    ['{"metric":"p42"}', /^metric: expected uptime, availability/],
    ['{"monitorIds":"a"}', 'monitorIds: expected an array of monitor id strings'],
    ['{"sloTarget":140}', 'sloTarget: expected a percentage between 0 and 100, e.g. 99.9'],
    ['{"sloWindow":"month"}', 'sloWindow: expected a whole number of minutes, hours or days, such as "30d"'],
    ['{"sloWindow":"2w"}', /^sloWindow: expected/],
    ['{"sloBurnWindow":"soon"}', 'sloBurnWindow: expected a whole number of minutes, hours or days, such as "1h"'],
    ['{"limit":0}', 'limit: expected an integer from 1 to 10000'],
    ['{"colour":"red"}', /^colour: unknown field/],
    ['[1]', 'query JSON: expected an object'],
    ['{"queryType":', /^query JSON: /],
  ])('refuses %s naming the field', (text, message) => {
    const result = parseRawQuery(text);
    expect('error' in result && result.error).toMatch(message);
  });

  it('refuses oversized text', () => {
    const result = parseRawQuery(' '.repeat(70_000));
    expect('error' in result && result.error).toMatch(/at most/);
  });
});
