//! The one error type of the connector. It carries the HDF5 area it belongs to so that the
//! C boundary can push it onto HDF5's error stack under a matching major message.
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    File,
    Group,
    Dataset,
    Attribute,
    Link,
    Object,
    Datatype,
    Storage,
    Config,
}

impl Area {
    pub const ALL: [Area; 9] = [
        Area::File,
        Area::Group,
        Area::Dataset,
        Area::Attribute,
        Area::Link,
        Area::Object,
        Area::Datatype,
        Area::Storage,
        Area::Config,
    ];
    pub fn label(self) -> &'static str {
        match self {
            Area::File => "File",
            Area::Group => "Group",
            Area::Dataset => "Dataset",
            Area::Attribute => "Attribute",
            Area::Link => "Link",
            Area::Object => "Object",
            Area::Datatype => "Datatype",
            Area::Storage => "Storage backend",
            Area::Config => "Connector configuration",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolError {
    pub area: Area,
    pub msg: String,
}

impl VolError {
    pub fn new(area: Area, msg: impl Into<String>) -> Self {
        VolError { area, msg: msg.into() }
    }
}

impl fmt::Display for VolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.area.label(), self.msg)
    }
}

impl std::error::Error for VolError {}

pub type Result<T> = std::result::Result<T, VolError>;

/// `bail!(Area::Link, "no link named {name:?}")` returns early with a `VolError`.
#[macro_export]
macro_rules! bail {
    ($area:expr, $($fmt:tt)+) => {
        return Err($crate::error::VolError::new($area, format!($($fmt)+)))
    };
}

pub fn err<T>(area: Area, msg: impl Into<String>) -> Result<T> {
    Err(VolError::new(area, msg))
}
