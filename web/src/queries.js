// The operations the data map sends; all are plain reads any role with a token may run.

const FINDING_FIELDS = `
  code severity message
  subject {
    __typename id
    ... on Subcontractor { name }
    ... on ThirdPartyRecipient { name }
    ... on Contract { reference subcontractor { id name } }
    ... on Provision { recipient { id name } }
    ... on Customer { externalRef }
    ... on DataSubjectRequest { kind customer { id externalRef } }
  }`;

export const BUSINESSES_QUERY = `query MapBusinesses { businesses { code name } }`;

export const CUSTOMER_QUERY = `
query MapCustomer($businessCode: String!, $externalRef: String!, $asOf: Date) {
  customerByRef(businessCode: $businessCode, externalRef: $externalRef) {
    id externalRef status cancelledOn
    business { id code name }
    dataItems { code }
    handlings(asOf: $asOf, includeExcluded: true) {
      role excluded exclusionReasons
      party {
        __typename id name country
        ... on ThirdPartyRecipient { kind }
      }
      purposes { code title }
      dataItems { code }
      contract { id reference status expiresOn }
      provision { id legalBasis }
      chain { id name }
    }
  }
  complianceFindings(businessCode: $businessCode, asOf: $asOf) { ${FINDING_FIELDS} }
}`;

export const BUSINESS_QUERY = `
query MapBusiness($businessCode: String!, $asOf: Date) {
  business(code: $businessCode) { id code name country }
  subcontractors(first: 1000) {
    edges { node {
      id name country
      parent { id }
      contracts {
        id reference status effectiveFrom expiresOn
        business { code }
        entrustments { purposes { code } dataItems { code } }
      }
    } }
  }
  thirdPartyRecipients {
    id name country kind
    provisions { id active legalBasis business { code } purposes { code } dataItems { code } }
  }
  complianceFindings(businessCode: $businessCode, asOf: $asOf) { ${FINDING_FIELDS} }
}`;
