//! A named choice among fixed keys (activation, pooling, init, optimiser, preset): one macro gives each its key for
//! the command line and weight files, its label for the window, parsing and display. A leaf of the engine.

/// A name that is none of a choice's keys (on the command line, in a weights file's metadata).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {} '{given}' (expected one of: {})", kind.to_lowercase(), expected.join(", "))]
pub struct UnknownChoice {
    pub kind: &'static str,
    pub given: String,
    pub expected: &'static [&'static str],
}

#[macro_export]
#[doc(hidden)]
macro_rules! choice_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $key:literal, $label:literal;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub(crate) const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The lowercase key used on the command line and in weight files.
            pub fn key(self) -> &'static str { match self { $($name::$variant => $key),+ } }
            /// The human label used in the UI and the stage table.
            pub fn label(self) -> &'static str { match self { $($name::$variant => $label),+ } }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.key()) }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::engine::choice::UnknownChoice;
            fn from_str(s: &str) -> Result<Self, $crate::engine::choice::UnknownChoice> {
                let lower = s.to_ascii_lowercase();
                $(if lower == $key { return Ok($name::$variant); })+
                Err($crate::engine::choice::UnknownChoice { kind: stringify!($name), given: s.to_string(), expected: &[$($key),+] })
            }
        }
    };
}

pub(crate) use crate::choice_enum;
