// The operations the vendor managers' console sends to /graphql. Reads any role may run, except
// `history`, asked only of roles that may read it (VENDOR_MANAGER, PRIVACY_OFFICER, ADMIN).
// Nothing here reads a customer: the console shows no personal data.

export const PAGE_SIZE = 20;
export const ASSESSMENTS_SHOWN = 20; // newest first; the API gives at most 100

const FINDINGS = `complianceFindings {
    code severity message
    subject { __typename id ... on Contract { reference subcontractor { id } } }
  }`;

export const START_QUERY = `query VendorsStart { viewer { name role } businesses { code name } }`;

export const LIST_QUERY = `
query VendorsList($first: Int, $after: String, $filter: SubcontractorFilter) {
  subcontractors(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id name country contractStatus version
      parent { id name }
      managementSystem { assessmentResult lastAssessedOn nextAssessmentDueOn }
      contracts { id reference status effectiveFrom expiresOn business { code } }
    } }
  }
  ${FINDINGS}
}`;

const CONTRACT_FIELDS = `
  id reference status signedOn effectiveFrom expiresOn clauses version dataReturnedOn
  business { code name }
  statusHistory { status effectiveOn at actor reason }
  allowedTransitions
  entrustments(includeEnded: true) {
    id description effectiveFrom effectiveUntil
    purposes { code title } dataItems { code name }
  }`;

const SUBCONTRACTOR_FIELDS = `
  id name country corporateNumber version foreignTransferBasis contractStatus createdAt updatedAt
  parent { id name }
  children { id name }
  managementSystem { certifications assessmentResult lastAssessedOn nextAssessmentDueOn }
  assessments(first: ${ASSESSMENTS_SHOWN}) { result assessedOn nextDueOn note }
  contracts { ${CONTRACT_FIELDS} }`;

const HISTORY = `history(first: 30) { edges { node { id at actor action entityType before after } } }`;

export function subcontractorQuery({ withHistory }) {
  return `
query VendorsSubcontractor($id: ID!) {
  subcontractor(id: $id) { ${SUBCONTRACTOR_FIELDS} ${withHistory ? HISTORY : ""} }
  ${FINDINGS}
}`;
}

export const BUSINESS_CHOICES_QUERY = `
query VendorsBusinessChoices($code: String!) {
  business(code: $code) { code purposes { code title } dataItems { code name } }
}`;

const ERRORS = "errors { code field message }";

export const MUTATIONS = {
  createSubcontractor: `mutation VendorsCreateSubcontractor($input: CreateSubcontractorInput!) {
    createSubcontractor(input: $input) { subcontractor { id name version } ${ERRORS} } }`,
  updateSubcontractor: `mutation VendorsUpdateSubcontractor($input: UpdateSubcontractorInput!) {
    updateSubcontractor(input: $input) { subcontractor { id version } ${ERRORS} } }`,
  recordAssessment: `mutation VendorsRecordAssessment($input: RecordAssessmentInput!) {
    recordAssessment(input: $input) { subcontractor { id version } ${ERRORS} } }`,
  createContract: `mutation VendorsCreateContract($input: CreateContractInput!) {
    createContract(input: $input) { contract { id reference version } ${ERRORS} } }`,
  transitionContract: `mutation VendorsTransitionContract($input: TransitionContractInput!) {
    transitionContract(input: $input) { contract { id status version } ${ERRORS} } }`,
  recordDataReturn: `mutation VendorsRecordDataReturn($input: RecordDataReturnInput!) {
    recordDataReturn(input: $input) { contract { id version dataReturnedOn } ${ERRORS} } }`,
  addEntrustment: `mutation VendorsAddEntrustment($input: AddEntrustmentInput!) {
    addEntrustment(input: $input) { entrustment { id } ${ERRORS} } }`,
  removeEntrustment: `mutation VendorsRemoveEntrustment($input: RemoveEntrustmentInput!) {
    removeEntrustment(input: $input) { entrustment { id effectiveUntil } ${ERRORS} } }`,
};
