"""Every lint rule, in the order they run. Add a rule: write its class, list it here."""

from __future__ import annotations

from sciapps.catalog.rules.base import Rule
from sciapps.catalog.rules.docker import (
    AddFromUrl,
    BadAptTxt,
    BuildTimeCode,
    CondaNotSupported,
    DockerfileEndsAsRoot,
    DockerfileInBasicMode,
    DockerfileUnreadable,
    MissingDockerfile,
    SourceOnlyPackage,
    UnapprovedBaseImage,
)
from sciapps.catalog.rules.files import DatalabTooLarge, FileTooLarge, MissingFile, PathOutsideDatalab, UnsafeLink
from sciapps.catalog.rules.identity import (
    AuthorNameNotCitable,
    DoiSyntax,
    DuplicateId,
    IdMismatch,
    InvalidOrcid,
    UnknownLicense,
    UnsafeCharacters,
)
from sciapps.catalog.rules.images import BadImage, PictureNameMismatch
from sciapps.catalog.rules.loading import (
    DuplicateKey,
    ExplicitYamlTag,
    MetadataTooLarge,
    MissingMetadata,
    NotADatalabFolder,
    NotAMapping,
    NotUtf8Text,
    UnsafeYaml,
    ValueReadAsAnother,
    YamlSyntaxError,
)
from sciapps.catalog.rules.metadata import (
    ChangelogOutOfDate,
    DuplicateMount,
    InvalidException,
    PlaceholderDescription,
    UndeclaredDataMission,
    UnknownCollection,
)
from sciapps.catalog.rules.notebooks import InvalidNotebook
from sciapps.catalog.rules.parameters import (
    BadParameterDefault,
    BadParameterName,
    BadParameterSet,
    InconsistentParameter,
    ResourceBounds,
    UnknownIdKind,
)
from sciapps.catalog.rules.schema import REFINEMENTS, SchemaViolation

ALL_RULES: tuple[type[Rule], ...] = (
    MissingMetadata,
    YamlSyntaxError,
    DuplicateKey,
    UnsafeYaml,
    NotUtf8Text,
    MetadataTooLarge,
    NotAMapping,
    ExplicitYamlTag,
    ValueReadAsAnother,
    NotADatalabFolder,
    SchemaViolation,
    *REFINEMENTS,
    IdMismatch,
    DuplicateId,
    UnknownLicense,
    InvalidOrcid,
    AuthorNameNotCitable,
    DoiSyntax,
    UnsafeCharacters,
    PathOutsideDatalab,
    MissingFile,
    UnsafeLink,
    FileTooLarge,
    DatalabTooLarge,
    InvalidNotebook,
    BadImage,
    PictureNameMismatch,
    DockerfileInBasicMode,
    MissingDockerfile,
    DockerfileUnreadable,
    UnapprovedBaseImage,
    DockerfileEndsAsRoot,
    AddFromUrl,
    BadAptTxt,
    CondaNotSupported,
    BuildTimeCode,
    SourceOnlyPackage,
    ChangelogOutOfDate,
    PlaceholderDescription,
    DuplicateMount,
    UndeclaredDataMission,
    UnknownCollection,
    InvalidException,
    BadParameterName,
    InconsistentParameter,
    BadParameterDefault,
    UnknownIdKind,
    BadParameterSet,
    ResourceBounds,
)

RULES_BY_ID: dict[str, type[Rule]] = {rule.id: rule for rule in sorted(ALL_RULES, key=lambda rule: rule.id)}  # listed by id
assert len(RULES_BY_ID) == len(ALL_RULES), "two rules share an id"
