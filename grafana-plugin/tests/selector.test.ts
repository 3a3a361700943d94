import { formatSelector, interpolateIds, interpolateSelector, parseSelector, SelectorSyntaxError } from '../src/datasource/selector';
import { templateSrv } from './helpers';

const vars = templateSrv([
  { name: 'env', options: ['prod', 'stage', 'dev'], current: ['prod', 'stage'] },
  { name: 'one', options: ['prod', 'stage'], current: 'prod' },
  { name: 'all', options: ['prod', 'stage'], current: '$__all' },
  { name: 'monitor', options: ['checkout-api', 'search', 'login'], current: ['checkout-api', 'search'] },
  { name: 'anymonitor', options: ['checkout-api', 'search'], current: '$__all' },
]);

describe('selector syntax', () => {
  it('parses every requirement kind and writes it back', () => {
    const text = 'team=payments,env!=dev,tier in (a,b),zone notin (x),critical,!legacy';
    const parsed = parseSelector(text);
    expect(parsed).toEqual([
      { key: 'team', op: '=', values: ['payments'] },
      { key: 'env', op: '!=', values: ['dev'] },
      { key: 'tier', op: 'in', values: ['a', 'b'] },
      { key: 'zone', op: 'notin', values: ['x'] },
      { key: 'critical', op: 'exists', values: [] },
      { key: 'legacy', op: '!exists', values: [] },
    ]);
    expect(formatSelector(parsed)).toBe(text);
  });

  it('reads == and spaces, and the empty selector as no requirement', () => {
    expect(parseSelector(' team == payments , env in ( prod , stage ) ')).toEqual([
      { key: 'team', op: '=', values: ['payments'] },
      { key: 'env', op: 'in', values: ['prod', 'stage'] },
    ]);
    expect(parseSelector('')).toEqual([]);
  });

  it('names the column and what was expected on bad input', () => {
    expect(() => parseSelector('team=a,,env=b')).toThrow(SelectorSyntaxError);
    expect(() => parseSelector('team=a,,env=b')).toThrow('selector column 8: expected a requirement such as key=value');
    expect(() => parseSelector('team=a,env in prod')).toThrow(/column 8/);
  });

  it('leaves rows without a key out when writing', () => {
    expect(formatSelector([{ key: '', op: '=', values: [] }, { key: 'team', op: '=', values: ['x'] }])).toBe('team=x');
  });
});

describe('template variables in selectors', () => {
  it('turns a multi-value variable into key in (a,b)', () => {
    expect(interpolateSelector('team=payments,env=$env', vars)).toBe('team=payments,env in (prod,stage)');
    expect(interpolateSelector('env in (${env})', vars)).toBe('env in (prod,stage)');
  });

  it('turns a negated multi-value variable into notin', () => {
    expect(interpolateSelector('env!=$env', vars)).toBe('env notin (prod,stage)');
  });

  it('keeps a single value as key=value', () => {
    expect(interpolateSelector('env=$one', vars)).toBe('env=prod');
    expect(interpolateSelector('env=[[one]]', vars)).toBe('env=prod');
  });

  it('drops the requirement when All is selected: no constraint on that key', () => {
    expect(interpolateSelector('team=payments,env=$all', vars)).toBe('team=payments');
    expect(interpolateSelector('env in ($all)', vars)).toBe('');
  });

  it('prefers scoped variables (repeated panels) over the dashboard selection', () => {
    expect(interpolateSelector('env=$all', vars, { all: { text: 'stage', value: 'stage' } })).toBe('env=stage');
  });

  it('keeps text around a variable in a value', () => {
    expect(interpolateSelector('zone=eu-$one', vars)).toBe('zone=eu-prod');
  });

  it('leaves selectors without variables untouched', () => {
    expect(interpolateSelector('team=payments', vars)).toBe('team=payments');
  });

  it('expands monitor ids: multi-value and All give one id per value', () => {
    expect(interpolateIds(['$monitor', 'login'], vars)).toEqual(['checkout-api', 'search', 'login']);
    expect(interpolateIds(['$anymonitor'], vars)).toEqual(['checkout-api', 'search']);
    expect(interpolateIds(undefined, vars)).toEqual([]);
  });
});
