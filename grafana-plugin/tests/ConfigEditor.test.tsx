import React from 'react';
import { fireEvent, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { DataSourceSettings } from '@grafana/data';

import { ConfigEditor } from '../src/datasource/components/ConfigEditor';
import { VedetteOptions, VedetteSecureOptions } from '../src/datasource/types';

function settings(patch: Partial<DataSourceSettings<VedetteOptions, VedetteSecureOptions>> = {}) {
  return {
    id: 1,
    uid: 'x',
    orgId: 1,
    name: 'Vedette',
    type: 'vedette-uptime-datasource',
    typeName: 'Vedette',
    typeLogoUrl: '',
    access: 'proxy',
    url: '',
    user: '',
    database: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    jsonData: {},
    secureJsonFields: {},
    readOnly: false,
    withCredentials: false,
    ...patch,
  } as DataSourceSettings<VedetteOptions, VedetteSecureOptions>;
}

describe('ConfigEditor', () => {
  it('writes the URL to jsonData and the token to secureJsonData only', () => {
    const onOptionsChange = jest.fn();
    render(<ConfigEditor options={settings()} onOptionsChange={onOptionsChange} />);
    fireEvent.change(screen.getByLabelText('vedette url'), { target: { value: 'http://vedette:8080' } });
    expect(onOptionsChange).toHaveBeenLastCalledWith(expect.objectContaining({ jsonData: { url: 'http://vedette:8080' } }));
    fireEvent.change(screen.getByLabelText('api token'), { target: { value: 'vdt_secret' } });
    const last = onOptionsChange.mock.calls.at(-1)[0];
    expect(last.secureJsonData).toEqual({ token: 'vdt_secret' });
    expect(JSON.stringify(last.jsonData)).not.toContain('vdt_secret');
  });

  it('shows a stored token as configured and resets it', async () => {
    const onOptionsChange = jest.fn();
    render(<ConfigEditor options={settings({ secureJsonFields: { token: true } })} onOptionsChange={onOptionsChange} />);
    expect(screen.getByDisplayValue('configured')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Reset' }));
    expect(onOptionsChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ secureJsonFields: { token: false }, secureJsonData: { token: '' } })
    );
  });

  it('names the URL field when it is not http(s)', () => {
    render(<ConfigEditor options={settings({ jsonData: { url: 'vedette:8080' } })} onOptionsChange={jest.fn()} />);
    expect(screen.getByText('URL: expected http:// or https:// followed by a host')).toBeInTheDocument();
  });
});
