import React from 'react';

import { Props, QueryEditor } from './QueryEditor';

/** The query editor in annotation mode: the source of events (incidents, maintenance, deployments) and the monitors. */
export function AnnotationsQueryEditor(props: Props) {
  return <QueryEditor {...props} annotationMode />;
}
