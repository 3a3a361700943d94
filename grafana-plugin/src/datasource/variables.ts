import { CustomVariableSupport, DataQueryRequest, DataQueryResponse } from '@grafana/data';
import { from, Observable } from 'rxjs';

import { VariableQueryEditor } from './components/VariableQueryEditor';
import type { DataSource } from './datasource';
import { VedetteQuery } from './types';

/** Template variables answered from the backend's resource calls. */
export class VedetteVariableSupport extends CustomVariableSupport<DataSource, VedetteQuery> {
  editor = VariableQueryEditor;

  constructor(private readonly datasource: DataSource) {
    super();
  }

  query(request: DataQueryRequest<VedetteQuery>): Observable<DataQueryResponse> {
    const query = request.targets[0] ?? { refId: 'variable' };
    return from(this.datasource.metricFindQuery(query, { scopedVars: request.scopedVars }).then((data) => ({ data })));
  }
}
