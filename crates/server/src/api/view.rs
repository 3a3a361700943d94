//! How a stored record becomes its kind's view: every view carries the record's id, labels,
//! spec, writer (`managed_by`), version and times, written here once.

/// Builds the view struct `$View` from `$record` (a [`vedette_model::Record`] variable): the
/// kind's own fields as given, then the record's shared ones. The kind's fields come first so
/// their values may still read the record before it is moved into the view:
/// `record_view!(StatusPageView, record { public_path: format!("/status/{}", record.spec.slug) })`.
macro_rules! record_view {
    ($View:ident, $record:ident { $($field:ident: $value:expr),* $(,)? }) => {
        $View {
            $($field: $value,)*
            id: $record.id,
            labels: $record.labels,
            spec: $record.spec,
            managed_by: $record.source,
            version: $record.version,
            created_at: $record.created_at,
            updated_at: $record.updated_at,
        }
    };
}

pub(crate) use record_view;
