import { DataSourcePlugin } from '@grafana/data';

import { ConfigEditor } from './components/ConfigEditor';
import { QueryEditor } from './components/QueryEditor';
import { DataSource } from './datasource';
import { VedetteOptions, VedetteQuery, VedetteSecureOptions } from './types';

/** Entry point Grafana loads for the Vedette data source. */
export const plugin = new DataSourcePlugin<DataSource, VedetteQuery, VedetteOptions, VedetteSecureOptions>(DataSource)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
