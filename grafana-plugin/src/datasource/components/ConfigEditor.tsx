import React from 'react';
import { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { InlineField, Input, SecretInput, Stack } from '@grafana/ui';

import { VedetteOptions, VedetteSecureOptions } from '../types';

type Props = DataSourcePluginOptionsEditorProps<VedetteOptions, VedetteSecureOptions>;

/** Settings of a Vedette data source: the server URL and an API token kept in `secureJsonData`. */
export function ConfigEditor({ options, onOptionsChange }: Props) {
  const { jsonData, secureJsonFields, secureJsonData } = options;
  const url = jsonData.url ?? options.url ?? '';
  const urlError = url !== '' && !/^https?:\/\/[^\s/]+/.test(url);

  return (
    <Stack direction="column" gap={1}>
      <InlineField
        label="URL"
        labelWidth={16}
        tooltip="Base URL of the Vedette server, as the Grafana server reaches it"
        invalid={urlError}
        error={urlError ? 'URL: expected http:// or https:// followed by a host' : undefined}
      >
        <Input
          aria-label="vedette url"
          width={48}
          placeholder="http://vedette:8080"
          value={url}
          onChange={(e) =>
            onOptionsChange({ ...options, url: e.currentTarget.value, jsonData: { ...jsonData, url: e.currentTarget.value } })
          }
        />
      </InlineField>
      <InlineField
        label="API token"
        labelWidth={16}
        tooltip="A read token (vdt_…) from `vedette token create --scope read`; stored encrypted by Grafana"
      >
        <SecretInput
          aria-label="api token"
          width={48}
          placeholder="vdt_…"
          isConfigured={Boolean(secureJsonFields?.token)}
          value={secureJsonData?.token ?? ''}
          onChange={(e) =>
            onOptionsChange({ ...options, secureJsonData: { ...secureJsonData, token: e.currentTarget.value } })
          }
          onReset={() =>
            onOptionsChange({
              ...options,
              secureJsonFields: { ...secureJsonFields, token: false },
              secureJsonData: { ...secureJsonData, token: '' },
            })
          }
        />
      </InlineField>
    </Stack>
  );
}
