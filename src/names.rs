//! Domain values with stable names: bands, job states, audit actions, issue
//! kinds, …. Each is an enum whose variants have one name each, used alike
//! by the API (serde, OpenAPI), the store (a text column) and the files and
//! reports; `parse` refuses any other name. [`stable_names!`] writes the enum
//! and its `as_str` / `parse` / `ALL` / `Display` once, so no name is ever
//! spelled twice.

/// An enum whose variants have stable snake_case (or dotted) names:
///
/// ```ignore
/// stable_names! {
///     /// Doc.
///     pub enum JobStatus {
///         /// Doc.
///         Running = "running",
///         Done = "done",
///     }
/// }
/// ```
#[macro_export]
macro_rules! stable_names {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:tt, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }

            /// The value of a stable name; `None` for any other text.
            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $( $text => Some($name::$variant), )+
                    _ => None,
                }
            }

            /// Every stable name, for messages (`a, b or c`).
            pub fn names() -> String {
                let all: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                match all.split_last() {
                    Some((last, rest)) if !rest.is_empty() => {
                        format!("{} or {}", rest.join(", "), last)
                    }
                    _ => all.join(""),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    stable_names! {
        /// A test vocabulary.
        pub enum Colour {
            Red = "red",
            DarkBlue = "dark.blue",
        }
    }

    #[test]
    fn names_round_trip_through_text_and_json() {
        for &c in Colour::ALL {
            assert_eq!(Colour::parse(c.as_str()), Some(c));
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                format!("\"{}\"", c.as_str())
            );
            let back: Colour = serde_json::from_str(&format!("\"{c}\"")).unwrap();
            assert_eq!(back, c);
        }
        assert_eq!(Colour::parse("Red"), None);
        assert_eq!(Colour::names(), "red or dark.blue");
    }
}
