import {
  AzureCliCredential,
  AzureDeveloperCliCredential,
  AzurePowerShellCredential,
  ChainedTokenCredential,
  WorkloadIdentityCredential,
} from '@azure/identity';
import type { TokenCredential } from '@azure/identity';
import type { TokenBrokerEnv } from '../config';

const MICROSOFT_AUTHORITIES = [
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.chinacloudapi.cn',
];

/**
 * How the broker reaches Key Vault. On the cluster: workload identity (the AKS webhook injects
 * AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_AUTHORITY_HOST and AZURE_FEDERATED_TOKEN_FILE; the file
 * is re-read by the SDK, so kubelet rotation just works). For developers: the tools they are
 * already signed in with, tried in order (Azure CLI, Azure Developer CLI, Azure PowerShell).
 */
export function createKeyVaultCredential(c: TokenBrokerEnv): TokenCredential {
  if (c.AZURE_CREDENTIAL === 'developer') {
    return new ChainedTokenCredential(
      new AzureCliCredential(),
      new AzureDeveloperCliCredential(),
      new AzurePowerShellCredential(),
    );
  }
  const authorityHost = c.AZURE_AUTHORITY_HOST;
  return new WorkloadIdentityCredential({
    tenantId: c.AZURE_TENANT_ID,
    clientId: c.AZURE_CLIENT_ID,
    tokenFilePath: c.AZURE_FEDERATED_TOKEN_FILE,
    authorityHost,
    // Instance discovery asks Microsoft about the authority: only meaningful for Microsoft's own hosts.
    disableInstanceDiscovery:
      authorityHost !== undefined &&
      !MICROSOFT_AUTHORITIES.includes(new URL(authorityHost).hostname),
  });
}
