mod address_external;
