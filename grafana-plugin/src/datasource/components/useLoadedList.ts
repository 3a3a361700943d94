import { useEffect, useState } from 'react';

/**
 * The list `load` resolves to, for an editor's suggestions: empty until the first answer and
 * after a failure; an answer arriving once `load` has changed or the editor is gone is dropped.
 * `load` is memoized by the caller (useCallback), as each new function loads again; it returns
 * undefined when there is nothing to load, which keeps the list as it is.
 */
export function useLoadedList<T>(load: () => Promise<T[]> | undefined): T[] {
  const [list, setList] = useState<T[]>([]);
  useEffect(() => {
    let live = true;
    load()?.then(
      (l) => live && setList(l),
      () => live && setList([])
    );
    return () => {
      live = false;
    };
  }, [load]);
  return list;
}
